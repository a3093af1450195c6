import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { CampaignsService } from '../campaigns/campaigns.service';
import { MAX_PERSONALISATION_BYTES } from '../links/link-request.validator';
import { OutboxService } from '../outbox/outbox.service';
import { PassesRepository } from '../passes/passes.repository';
import { BulkRowError } from './bulk-row';
import { BulkUpdatesRepository } from './bulk-updates.repository';

/**
 * Passes changed per transaction (and per fan-out). Larger batches cost fewer round trips; each
 * holds its passes' row locks until it commits, so a single PATCH of one of them waits that long.
 */
export const APPLY_BATCH = 5_000;

/**
 * Applies a received bulk update in the worker: resolves its rows to passes once, then changes
 * the passes batch by batch. Each batch commits its pass changes, its errors, the new resume point
 * and one fan-out fact (pushes and Google patches for the batch's changed passes) together, so a
 * crash at any point resumes after the last committed batch and no row is applied twice.
 */
@Injectable()
export class BulkUpdatesApplier implements BeforeApplicationShutdown {
  private stopping = false;
  private readonly logger = new Logger(BulkUpdatesApplier.name);

  constructor(
    private readonly repo: BulkUpdatesRepository,
    private readonly campaigns: CampaignsService,
    private readonly passes: PassesRepository,
    private readonly outbox: OutboxService,
  ) {}

  /**
   * A worker that shuts down stops after its current batch: the job fails this attempt and is
   * retried (by this worker after a restart, or by another), resuming where it stopped.
   */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async apply(bulkUpdateId: string): Promise<string> {
    const update = await this.repo.findInternal(bulkUpdateId);
    if (!update) return 'gone';
    if (update.status === 'DONE' || update.status === 'FAILED') return update.status;
    if (update.status === 'RECEIVING') return 'not received';
    const campaign = await this.campaigns.findByIdInternal(update.campaign_id);
    if (!campaign || campaign.tenantId !== update.tenant_id) return 'gone';
    if (campaign.status === 'ended') {
      await this.repo.fail(bulkUpdateId, 'The campaign ended before the update was applied');
      return 'campaign ended';
    }
    const tenantId = update.tenant_id;
    const campaignId = update.campaign_id;
    await this.repo.start(bulkUpdateId);
    const started = Date.now();
    if (update.targets === null) {
      await this.repo.transaction(async (m) => {
        const locked = await this.repo.lock(m, bulkUpdateId);
        if (!locked || locked.targets !== null) return;
        await this.repo.resolve(m, bulkUpdateId, tenantId, campaignId);
      });
    }
    const resolvedMs = Date.now() - started;
    const changedAt = new Date().toISOString();
    let changedPasses = 0;
    for (;;) {
      if (this.stopping)
        throw new WorkerStoppingError('the worker is shutting down; the update resumes later');
      const more = await this.repo.transaction(async (m) => {
        const current = await this.repo.lock(m, bulkUpdateId);
        if (!current || current.status !== 'RUNNING') return false;
        const targets = await this.repo.targetsAfter(m, bulkUpdateId, current.applied_seq, APPLY_BATCH);
        if (targets.length === 0) return false;
        const { changed, tooLarge } = await this.passes.mergeDataMany(
          m,
          tenantId,
          campaignId,
          targets.map((t) => ({ passId: t.pass_id, contact: t.contact, voucher: t.voucher })),
          MAX_PERSONALISATION_BYTES,
        );
        const refused = new Set(tooLarge);
        const errors: BulkRowError[] = [];
        let applied = 0;
        let failed = 0;
        for (const t of targets) {
          if (!refused.has(t.pass_id)) {
            applied += t.counted;
            continue;
          }
          failed += t.counted;
          for (const line of t.lines) {
            errors.push({
              line,
              code: 'PERSONALISATION_TOO_LARGE',
              message: `the pass's contact and voucher would exceed ${MAX_PERSONALISATION_BYTES} bytes as JSON`,
            });
          }
        }
        await this.repo.insertErrors(m, bulkUpdateId, tenantId, errors);
        if (changed.length > 0) {
          await this.outbox.add(m, tenantId, 'bulk.fanout', {
            tenantId,
            campaignId,
            bulkUpdateId,
            batch: targets[0]!.seq,
            passIds: changed.map((c) => c.id),
            googlePassIds: changed.filter((c) => c.google).map((c) => c.id),
            changedAt,
          });
        }
        changedPasses += changed.length;
        await this.repo.advance(m, bulkUpdateId, targets[targets.length - 1]!.seq, applied, failed);
        return true;
      });
      if (!more) break;
    }
    await this.repo.finish(bulkUpdateId);
    this.logger.log(
      { bulkUpdateId, changedPasses, resolveMs: resolvedMs, totalMs: Date.now() - started },
      'bulk update applied',
    );
    return `applied; ${changedPasses} passes changed`;
  }

  async fail(bulkUpdateId: string, message: string): Promise<void> {
    await this.repo.fail(bulkUpdateId, message);
  }
}

export class WorkerStoppingError extends Error {}
