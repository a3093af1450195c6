import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { PassesModule } from '../passes/passes.module';
import { GoogleWalletProcessor } from './google-wallet.processor';

/** The Google Wallet queue's worker; loaded only in the worker role (ROLE=worker or all). */
@Module({ imports: [CampaignsModule, PassesModule], providers: [GoogleWalletProcessor] })
export class GoogleSyncWorkerModule {}
