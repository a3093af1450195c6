import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WalletConfigurationsModule } from '../wallet-configurations/wallet-configurations.module';
import { CampaignAssetsController } from './campaign-assets.controller';
import { CampaignGoogleClassService } from './campaign-google-class.service';
import { Campaign, CampaignImage } from './campaign.entity';
import { CampaignsController } from './campaigns.controller';
import { CampaignsRepository } from './campaigns.repository';
import { CampaignsService } from './campaigns.service';

@Module({
  imports: [TypeOrmModule.forFeature([Campaign, CampaignImage]), WalletConfigurationsModule],
  controllers: [CampaignsController, CampaignAssetsController],
  providers: [CampaignsRepository, CampaignsService, CampaignGoogleClassService],
  exports: [CampaignsService, CampaignGoogleClassService],
})
export class CampaignsModule {}
