import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { GoogleWalletError } from '../../integrations/google-wallet/google-wallet.client';
import { JobPayloads, QUEUE_NAMES } from '../../queues/queues';
import { CampaignGoogleClassService } from '../campaigns/campaign-google-class.service';
import { CampaignsService } from '../campaigns/campaigns.service';
import { PassGoogleObjectService } from '../passes/pass-google-object.service';
import { GoogleCampaignObjectsService } from './google-campaign-objects.service';
import { GoogleUpdateProgressRepository } from './google-update-progress.repository';

type GoogleJob =
  | Job<JobPayloads['google.class.sync'], unknown, 'google.class.sync'>
  | Job<JobPayloads['google.object.sync'], unknown, 'google.object.sync'>
  | Job<JobPayloads['google.campaign.objects'], unknown, 'google.campaign.objects'>;

/** Google Wallet writes that retry with backoff: campaign classes and pass objects. */
@Processor(QUEUE_NAMES.google, { concurrency: 20, lockDuration: 10_000, stalledInterval: 5_000 })
export class GoogleWalletProcessor extends WorkerHost {
  private readonly logger = new Logger(GoogleWalletProcessor.name);

  constructor(
    private readonly campaigns: CampaignsService,
    private readonly googleClass: CampaignGoogleClassService,
    private readonly objects: PassGoogleObjectService,
    private readonly campaignObjects: GoogleCampaignObjectsService,
    private readonly progress: GoogleUpdateProgressRepository,
  ) {
    super();
  }

  async process(job: GoogleJob): Promise<string> {
    try {
      switch (job.name) {
        case 'google.class.sync':
          return await this.syncClass(job.data);
        case 'google.object.sync':
          return await this.objects.sync(job.data.tenantId, job.data.passId);
        case 'google.campaign.objects':
          return await this.campaignObjects.run(job.data);
      }
    } catch (err) {
      const retryable = err instanceof GoogleWalletError ? err.retryable : true;
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const message = err instanceof Error ? err.message : String(err);
      this.logger.warn(
        { jobId: job.id, job: job.name, attempt: job.attemptsMade + 1, retryable, err: message },
        'Google Wallet job failed',
      );
      if (job.name === 'google.class.sync' && (!retryable || lastAttempt)) {
        await this.googleClass.markFailed(job.data.campaignId, message);
      }
      if (job.name === 'google.campaign.objects' && (!retryable || lastAttempt)) {
        // The run gives up: what is left counts as failed, so the update can finish.
        await this.progress.failRest(job.data.updateId);
      }
      if (!retryable) throw new UnrecoverableError(message);
      throw err;
    }
  }

  private async syncClass(data: JobPayloads['google.class.sync']): Promise<string> {
    const campaign = await this.campaigns.findByIdInternal(data.campaignId);
    if (!campaign || campaign.tenantId !== data.tenantId || !campaign.googleClassId) return 'gone';
    if (campaign.googleSyncStatus === 'SYNCED' && campaign.contentVersion >= data.contentVersion)
      return 'up-to-date';
    return this.googleClass.syncNow(campaign);
  }
}
