import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, JobPayloads, QUEUE_NAMES } from '../../queues/queues';
import { AppleDevicesService } from '../apple-web-service/apple-devices.service';
import { CampaignsService } from '../campaigns/campaigns.service';
import { BulkUpdatesApplier } from './bulk-updates.applier';

/** Push tokens per push job fanned out from a batch (as for a campaign fan-out). */
const PUSH_BATCH = 500;

type BulkJob =
  | Job<JobPayloads['bulk.apply'], unknown, 'bulk.apply'>
  | Job<JobPayloads['bulk.fanout'], unknown, 'bulk.fanout'>;

/**
 * The bulk-update queue. `bulk.apply` runs an update to its end (a long job: its lock is renewed
 * while it runs, and a crashed worker's job is taken over and resumes from the last batch).
 * `bulk.fanout` turns one applied batch into push jobs of 500 tokens — each device once per pass
 * type however many of its passes the batch changed — and one Google object patch per changed
 * saved pass, all with deterministic job ids so that a re-run adds nothing twice.
 */
@Processor(QUEUE_NAMES.bulk, {
  concurrency: 4,
  lockDuration: 10_000,
  stalledInterval: 5_000,
  maxStalledCount: 20,
})
export class BulkUpdatesProcessor extends WorkerHost {
  private readonly logger = new Logger(BulkUpdatesProcessor.name);

  constructor(
    private readonly applier: BulkUpdatesApplier,
    private readonly campaigns: CampaignsService,
    private readonly devices: AppleDevicesService,
    @InjectQueue(QUEUE_NAMES.push) private readonly pushQueue: Queue,
    @InjectQueue(QUEUE_NAMES.google) private readonly googleQueue: Queue,
  ) {
    super();
  }

  async process(job: BulkJob): Promise<string> {
    switch (job.name) {
      case 'bulk.apply':
        return this.apply(job as Job<JobPayloads['bulk.apply']>);
      case 'bulk.fanout':
        return this.fanOut(job.data);
    }
  }

  private async apply(job: Job<JobPayloads['bulk.apply']>): Promise<string> {
    try {
      return await this.applier.apply(job.data.bulkUpdateId);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      this.logger.warn(
        { jobId: job.id, bulkUpdateId: job.data.bulkUpdateId, attempt: job.attemptsMade + 1, err: message },
        'bulk update batch failed; will resume',
      );
      if (lastAttempt)
        await this.applier.fail(
          job.data.bulkUpdateId,
          'The update could not be applied; see the service logs',
        );
      throw err;
    }
  }

  private async fanOut(d: JobPayloads['bulk.fanout']): Promise<string> {
    const campaign = await this.campaigns.findByIdInternal(d.campaignId);
    if (!campaign || campaign.tenantId !== d.tenantId) return 'gone';
    const targets = d.passIds.length > 0 ? await this.devices.pushTargetsForPasses(d.passIds) : [];
    const jobs: Parameters<Queue['addBulk']>[0] = [];
    let type: string | undefined;
    let tokens: string[] = [];
    const emit = () => {
      if (tokens.length === 0 || type === undefined) return;
      jobs.push({
        name: 'push.batch',
        data: {
          tenantId: d.tenantId,
          campaignId: d.campaignId,
          walletConfigurationId: campaign.walletConfigurationId,
          passTypeIdentifier: type,
          updateId: null,
          tokens,
          changedAt: d.changedAt,
        } satisfies JobPayloads['push.batch'],
        opts: { ...DEFAULT_JOB_OPTIONS, jobId: `bu-${d.bulkUpdateId}-${d.batch}-${jobs.length}` },
      });
      tokens = [];
    };
    for (const t of targets) {
      if (t.passTypeIdentifier !== type || tokens.length >= PUSH_BATCH) {
        emit();
        type = t.passTypeIdentifier;
      }
      tokens.push(t.pushToken);
    }
    emit();
    if (jobs.length > 0) await this.pushQueue.addBulk(jobs);
    if (d.googlePassIds.length > 0) {
      await this.googleQueue.addBulk(
        d.googlePassIds.map((passId) => ({
          name: 'google.object.sync',
          data: { tenantId: d.tenantId, passId } satisfies JobPayloads['google.object.sync'],
          opts: { ...DEFAULT_JOB_OPTIONS, jobId: `bu-${d.bulkUpdateId}-g-${passId}` },
        })),
      );
    }
    return `${targets.length} pushes in ${jobs.length} jobs, ${d.googlePassIds.length} Google objects`;
  }
}
