import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { Job, MinimalJob } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { SecretEncryptionService } from '../../integrations/crypto/secret-box';
import { WebhookHttpClient } from '../../integrations/webhooks/webhook-http.client';
import { JobPayloads, QUEUE_NAMES, WEBHOOK_BACKOFF, webhookBackoff } from '../../queues/queues';
import { secretAad } from './webhooks.service';
import { WebhooksRepository } from './webhooks.repository';

class DeliveryFailedError extends Error {}

function backoffStrategy(attemptsMade: number, type?: string, _err?: Error, job?: MinimalJob): number {
  if (type !== WEBHOOK_BACKOFF) return 0;
  const backoff = job?.opts.backoff;
  const base = typeof backoff === 'object' && backoff.delay ? backoff.delay : 30_000;
  return webhookBackoff(attemptsMade, base);
}

/**
 * Sends webhook deliveries. Any 2xx is delivered; anything else (another status, a timeout, a
 * refused address) is an attempt that failed, retried by BullMQ with the webhook backoff. An
 * endpoint whose deliveries have failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled and the
 * tenant told (its status and reason on the webhook, and a warning in the log).
 */
@Processor(QUEUE_NAMES.webhooks, { concurrency: 16, settings: { backoffStrategy } })
export class WebhookDeliveryProcessor extends WorkerHost {
  private readonly logger = new Logger(WebhookDeliveryProcessor.name);

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly http: WebhookHttpClient,
    private readonly box: SecretEncryptionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async process(job: Job<JobPayloads['webhook.deliver']>): Promise<string> {
    const { tenantId, deliveryId } = job.data;
    const d = await this.repo.deliveryForSend(tenantId, deliveryId);
    if (!d) return 'gone';
    if (d.status === 'DELIVERED' || d.status === 'CANCELLED') return d.status.toLowerCase();
    const manual = d.event_type === 'ping' || d.redelivery_of !== null;
    if (d.webhook_status !== 'ACTIVE' && !manual) {
      await this.repo.setDeliveryStatus(d.id, 'CANCELLED', 'webhook disabled');
      return 'cancelled';
    }
    const secret = this.box.decrypt(d.secret_ciphertext, secretAad(d.webhook_id));
    const result = await this.http.send(d.url, secret, d.body, d.event_id);
    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    if (ok) {
      await this.repo.recordAttempt(d.id, {
        status: 'DELIVERED',
        responseStatus: result.statusCode ?? null,
        responseTimeMs: result.durationMs,
        error: null,
      });
      await this.repo.markHealthy(d.webhook_id);
      return 'delivered';
    }
    const error = result.error ?? `receiver answered ${result.statusCode}`;
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await this.repo.recordAttempt(d.id, {
      status: last ? 'FAILED' : 'RETRYING',
      responseStatus: result.statusCode ?? null,
      responseTimeMs: result.refused ? null : result.durationMs,
      error,
    });
    const disabled = await this.repo.markFailing(
      d.webhook_id,
      this.config.webhookDisableAfterHours,
      `every delivery failed for more than ${this.config.webhookDisableAfterHours} hours (last: ${error})`,
    );
    if (disabled) {
      await this.repo.cancelPending(d.webhook_id);
      this.logger.warn(
        { tenantId, webhookId: d.webhook_id, hours: this.config.webhookDisableAfterHours },
        'webhook disabled: its deliveries have failed for too long; the tenant sees the status on the webhook',
      );
      return 'disabled';
    }
    if (last) return 'failed';
    throw new DeliveryFailedError(error);
  }
}
