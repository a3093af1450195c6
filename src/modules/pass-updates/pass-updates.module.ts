import { Module } from '@nestjs/common';
import { AppleDevicesModule } from '../apple-web-service/apple-devices.module';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { PassUpdatesController } from './pass-updates.controller';
import { PassUpdatesRepository } from './pass-updates.repository';
import { PassUpdatesService } from './pass-updates.service';

@Module({
  imports: [CampaignsModule, AppleDevicesModule],
  controllers: [PassUpdatesController],
  providers: [PassUpdatesRepository, PassUpdatesService],
  exports: [PassUpdatesService],
})
export class PassUpdatesModule {}
