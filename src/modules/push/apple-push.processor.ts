import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { Job, Queue, UnrecoverableError } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DEFAULT_JOB_OPTIONS, JobPayloads, QUEUE_NAMES } from '../../queues/queues';
import { MetricsService } from '../metrics/metrics.service';
import { AppleDevicesService } from '../apple-web-service/apple-devices.service';
import { ApplePusherService, PushRoundResult } from './apple-pusher.service';
import { PushRepository, PushTarget } from './push.repository';

/** Push tokens per batch job of a campaign fan-out. */
export const FANOUT_BATCH_SIZE = 500;
/**
 * Passes per fan-out query page: the first page's size, then adapted so that a page brings about
 * FANOUT_PAGE_ROWS push targets (a campaign's passes usually have one or two devices each, but
 * the worker's memory must stay bounded whatever the shape).
 */
const FANOUT_FIRST_PASS_PAGE = 500;
const FANOUT_PAGE_ROWS = 5_000;
const FANOUT_MAX_PASS_PAGE = 10_000;

type PushJob =
  | Job<JobPayloads['push.pass'], unknown, 'push.pass'>
  | Job<JobPayloads['push.campaign'], unknown, 'push.campaign'>
  | Job<JobPayloads['push.batch'], unknown, 'push.batch'>;

class RetryLaterError extends Error {}

/**
 * The Apple push queue. A pass change pushes that pass's devices; a campaign change fans out
 * into batch jobs of 500 push tokens with deterministic ids, so a re-run fan-out adds nothing twice.
 * Locks are short and renewed every 5 s, so a job of a crashed worker is picked up by another one
 * within about 15 s.
 */
@Processor(QUEUE_NAMES.push, { concurrency: 6, lockDuration: 10_000, stalledInterval: 5_000 })
export class ApplePushProcessor extends WorkerHost {
  private readonly logger = new Logger(ApplePushProcessor.name);

  constructor(
    private readonly repo: PushRepository,
    private readonly devices: AppleDevicesService,
    private readonly pusher: ApplePusherService,
    @InjectQueue(QUEUE_NAMES.push) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    super();
    const pushQueue = this.queue;
    metrics.gauge('push_queue_jobs', 'Jobs in the Apple push queue by state', ['state'], async function () {
      const counts = await pushQueue.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => ({}));
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    });
  }

  async process(job: PushJob): Promise<unknown> {
    switch (job.name) {
      case 'push.pass':
        return this.pushPass(job as Job<JobPayloads['push.pass']>);
      case 'push.campaign':
        return this.fanOut(job.data);
      case 'push.batch':
        return this.pushBatch(job as Job<JobPayloads['push.batch']>);
    }
  }

  private async pushPass(job: Job<JobPayloads['push.pass']>): Promise<string> {
    const jobKey = `pass:${job.id}`;
    const pass = await this.repo.passForPush(job.data.passId);
    if (!pass || pass.tenant_id !== job.data.tenantId) {
      await this.repo.clearPending(jobKey);
      return 'gone';
    }
    // A later change of the same pass has its own job, which will push: this one coalesces into it.
    if (BigInt(pass.change_seq) > BigInt(job.data.changeSeq) && job.attemptsMade === 0) return 'coalesced';
    // A retry pushes only what the earlier attempts still owe.
    const byType = job.data.owed
      ? new Map(job.data.owed)
      : groupByType(await this.devices.pushTargetsForPass(pass.id));
    const totals = { sent: 0, failed: 0, unregistered: 0 };
    const owed: [string, string[]][] = [];
    let owedCount = 0;
    let lastReason: string | undefined;
    for (const [passTypeIdentifier, tokens] of byType) {
      const r = await this.pusher.push({
        walletConfigurationId: pass.wallet_configuration_id,
        passTypeIdentifier,
        tokens,
        dedupeKey: `job:${job.id}`,
        changedAt: job.data.changedAt,
      });
      add(totals, r);
      if (r.retry.length > 0) {
        owed.push([passTypeIdentifier, r.retry]);
        owedCount += r.retry.length;
      }
      lastReason = r.retryReason ?? lastReason;
    }
    const lastAttempt = this.isLastAttempt(job);
    // After the last attempt, what is still owed has failed.
    if (lastAttempt) totals.failed += owedCount;
    await this.repo.recordOutcomes(pass.tenant_id, pass.campaign_id, null, totals, pass.id);
    if (owedCount > 0 && !lastAttempt) {
      await this.repo.setPending(jobKey, pass.tenant_id, pass.campaign_id, owedCount);
      await job.updateData({ ...job.data, owed });
      this.retryLater(job, owedCount, lastReason);
    }
    if (job.data.owed) await this.repo.clearPending(jobKey);
    return `sent ${totals.sent}`;
  }

  private async fanOut(data: JobPayloads['push.campaign']): Promise<string> {
    const decision = await this.repo.startCampaignUpdate(data.updateId, data.campaignId);
    if (decision === 'coalesced') return 'coalesced into a newer update';
    // 'already': a crashed run is re-running; batch ids are deterministic, so re-adding is harmless.
    const campaign = await this.repo.campaignConfig(data.campaignId);
    if (!campaign) return 'gone';
    let afterPass: string | null = null;
    let batchIndex = 0;
    let total = 0;
    let pending: PushTarget[] = [];
    // One push per token and pass type, however many of the campaign's passes a device holds.
    const seen = new Map<string, Set<string>>();
    const flush = async (items: PushTarget[]) => {
      const jobs = chunkByType(items, FANOUT_BATCH_SIZE).map(([passTypeIdentifier, tokens]) => ({
        name: 'push.batch' as const,
        data: {
          tenantId: data.tenantId,
          campaignId: data.campaignId,
          walletConfigurationId: campaign.walletConfigurationId,
          passTypeIdentifier,
          updateId: data.updateId,
          tokens,
          changedAt: data.changedAt,
        } satisfies JobPayloads['push.batch'],
        opts: { ...DEFAULT_JOB_OPTIONS, jobId: `cu-${data.updateId}-${batchIndex++}` },
      }));
      if (jobs.length > 0) await this.queue.addBulk(jobs);
    };
    let passPage = FANOUT_FIRST_PASS_PAGE;
    for (;;) {
      const { targets, lastPassId } = await this.repo.campaignTargetsPage(
        data.campaignId,
        afterPass,
        passPage,
      );
      if (lastPassId === null) break;
      afterPass = lastPassId;
      for (const t of targets) {
        let tokens = seen.get(t.passTypeIdentifier);
        if (!tokens) seen.set(t.passTypeIdentifier, (tokens = new Set()));
        if (tokens.has(t.pushToken)) continue;
        tokens.add(t.pushToken);
        pending.push(t);
        total++;
      }
      // Page boundaries do not change the order of targets (pass id, then token), so batch
      // boundaries and ids stay the same on a re-run whatever sizes the pages had.
      const perPass = targets.length / passPage;
      passPage = Math.max(
        50,
        Math.min(FANOUT_MAX_PASS_PAGE, Math.round(FANOUT_PAGE_ROWS / Math.max(perPass, 0.01))),
      );
      // Emit only whole batches until the end, so batch boundaries (and ids) are the same on a re-run.
      const whole = pending.length - (pending.length % FANOUT_BATCH_SIZE);
      if (whole > 0) {
        await flush(pending.slice(0, whole));
        pending = pending.slice(whole);
      }
    }
    await flush(pending);
    await this.repo.setUpdateTotal(data.updateId, total);
    return `fanned out ${total} tokens`;
  }

  private async pushBatch(job: Job<JobPayloads['push.batch']>): Promise<string> {
    const d = job.data;
    const r = await this.pusher.push({
      walletConfigurationId: d.walletConfigurationId,
      passTypeIdentifier: d.passTypeIdentifier,
      tokens: d.tokens,
      dedupeKey: `job:${job.id}`,
      changedAt: d.changedAt,
    });
    const lastAttempt = this.isLastAttempt(job);
    const retry = r.retry;
    await this.repo.recordOutcomes(d.tenantId, d.campaignId, d.updateId, {
      sent: r.sent,
      failed: r.failed + (lastAttempt ? retry.length : 0),
      unregistered: r.unregistered,
    });
    if (r.certificateError) throw new UnrecoverableError(r.certificateError);
    if (retry.length > 0 && !lastAttempt) {
      // Only the tokens still owed are retried.
      await job.updateData({ ...d, tokens: retry });
      this.retryLater(job, retry.length, r.retryReason);
    }
    return `sent ${r.sent}`;
  }

  /** The job's last attempt: BullMQ's, or earlier when PUSH_MAX_ATTEMPTS is lower. */
  private isLastAttempt(job: Job): boolean {
    return job.attemptsMade + 1 >= Math.min(job.opts.attempts ?? 1, this.config.pushMaxAttempts);
  }

  /**
   * A single-pass job that ends failed (an error on its last attempt) leaves no pending pushes
   * behind: what it owed counts as failed.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job | undefined): Promise<void> {
    if (!job || job.name !== 'push.pass') return;
    if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
    await this.repo.failPending(`pass:${job.id}`).catch((err: unknown) => {
      this.logger.warn(
        { jobId: job.id, err: String(err) },
        'could not settle pending pushes of a failed job',
      );
    });
  }

  private retryLater(job: Job, n: number, reason: string | undefined): never {
    this.logger.warn(
      { jobId: job.id, job: job.name, tokens: n, attempt: job.attemptsMade + 1, reason },
      'some pushes will be retried',
    );
    throw new RetryLaterError(`${n} pushes to retry`);
  }
}

function groupByType(targets: PushTarget[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const t of targets) {
    const list = m.get(t.passTypeIdentifier);
    if (list) list.push(t.pushToken);
    else m.set(t.passTypeIdentifier, [t.pushToken]);
  }
  return m;
}

function chunkByType(items: PushTarget[], size: number): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const [type, tokens] of groupByType(items)) {
    for (let i = 0; i < tokens.length; i += size) out.push([type, tokens.slice(i, i + size)]);
  }
  return out;
}

function add(totals: { sent: number; failed: number; unregistered: number }, r: PushRoundResult): void {
  totals.sent += r.sent;
  totals.failed += r.failed;
  totals.unregistered += r.unregistered;
}
