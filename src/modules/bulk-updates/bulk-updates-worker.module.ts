import { Module } from '@nestjs/common';
import { AppleDevicesModule } from '../apple-web-service/apple-devices.module';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { PassesModule } from '../passes/passes.module';
import { BulkUpdatesApplier } from './bulk-updates.applier';
import { BulkUpdatesModule } from './bulk-updates.module';
import { BulkUpdatesProcessor } from './bulk-updates.processor';

/** The bulk-update queue's worker; loaded only in the worker role (ROLE=worker or all). */
@Module({
  imports: [BulkUpdatesModule, CampaignsModule, PassesModule, AppleDevicesModule],
  providers: [BulkUpdatesApplier, BulkUpdatesProcessor],
})
export class BulkUpdatesWorkerModule {}
