import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { LinksModule } from '../links/links.module';
import { PassesModule } from '../passes/passes.module';
import { WalletConfigurationsModule } from '../wallet-configurations/wallet-configurations.module';
import { CampaignPreviewController } from './campaign-preview.controller';
import { CampaignPreviewService } from './campaign-preview.service';

/** The console's live preview and test links. */
@Module({
  imports: [CampaignsModule, PassesModule, LinksModule, WalletConfigurationsModule],
  controllers: [CampaignPreviewController],
  providers: [CampaignPreviewService],
})
export class CampaignPreviewModule {}
