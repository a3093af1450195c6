import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { PassesModule } from '../passes/passes.module';
import { WalletConfigurationsModule } from '../wallet-configurations/wallet-configurations.module';
import { GoogleCampaignObjectsService } from './google-campaign-objects.service';
import { GooglePacerService } from './google-pacer.service';
import { GoogleUpdateProgressRepository } from './google-update-progress.repository';
import { GoogleWalletProcessor } from './google-wallet.processor';

/** The Google Wallet queue's worker; loaded only in the worker role (ROLE=worker or all). */
@Module({
  imports: [CampaignsModule, PassesModule, WalletConfigurationsModule],
  providers: [
    GoogleWalletProcessor,
    GoogleCampaignObjectsService,
    GooglePacerService,
    GoogleUpdateProgressRepository,
  ],
})
export class GoogleSyncWorkerModule {}
