import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { PassUpdatesController } from './pass-updates.controller';
import { PassUpdatesRepository } from './pass-updates.repository';
import { PassUpdatesService } from './pass-updates.service';

@Module({
  imports: [CampaignsModule],
  controllers: [PassUpdatesController],
  providers: [PassUpdatesRepository, PassUpdatesService],
  exports: [PassUpdatesService],
})
export class PassUpdatesModule {}
