import { Module } from '@nestjs/common';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhooksModule } from './webhooks.module';

/** The webhook queue's worker; loaded only in the worker role (ROLE=worker or all). */
@Module({ imports: [WebhooksModule], providers: [WebhookDeliveryProcessor] })
export class WebhooksWorkerModule {}
