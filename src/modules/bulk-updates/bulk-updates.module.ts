import { Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { BulkUpdatesController } from './bulk-updates.controller';
import { BulkUpdatesRepository } from './bulk-updates.repository';
import { BULK_UPDATE_MEDIA_TYPES, BulkUpdatesService } from './bulk-updates.service';

/** Bulk pass updates: the upload and progress API (applying is BulkUpdatesWorkerModule's job). */
@Module({
  imports: [CampaignsModule],
  controllers: [BulkUpdatesController],
  providers: [BulkUpdatesRepository, BulkUpdatesService],
  exports: [BulkUpdatesRepository],
})
export class BulkUpdatesModule implements OnModuleInit {
  constructor(private readonly http: HttpAdapterHost) {}

  /**
   * Uploads arrive as the raw request stream: the service parses and stages them as they come,
   * so nothing buffers the body (and the JSON body limit does not apply to them).
   */
  onModuleInit(): void {
    const adapter = this.http.httpAdapter as { getInstance(): FastifyInstance } | undefined;
    if (!adapter) return; // the worker role has no HTTP server
    adapter
      .getInstance()
      .addContentTypeParser(Object.keys(BULK_UPDATE_MEDIA_TYPES), (_req, payload, done) =>
        done(null, payload),
      );
  }
}
