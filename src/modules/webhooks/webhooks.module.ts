import { Module } from '@nestjs/common';
import { SecretEncryptionService } from '../../integrations/crypto/secret-box';
import { WebhookHttpClient, WebhookResolver } from '../../integrations/webhooks/webhook-http.client';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Tenants' webhook endpoints and the `emit` every module records its events through. */
@Module({
  controllers: [WebhooksController],
  providers: [
    WebhooksRepository,
    WebhooksService,
    SecretEncryptionService,
    WebhookResolver,
    WebhookHttpClient,
  ],
  exports: [WebhooksService, WebhooksRepository, WebhookHttpClient, SecretEncryptionService, WebhookResolver],
})
export class WebhooksModule {}
