import { Module } from '@nestjs/common';
import { AppleDevicesModule } from '../apple-web-service/apple-devices.module';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { CampaignActivityController } from './campaign-activity.controller';
import { CampaignActivityRepository } from './campaign-activity.repository';
import { CampaignActivityService } from './campaign-activity.service';

/** Read-only reporting for the console's campaign page. */
@Module({
  imports: [CampaignsModule, AppleDevicesModule],
  controllers: [CampaignActivityController],
  providers: [CampaignActivityRepository, CampaignActivityService],
})
export class CampaignActivityModule {}
