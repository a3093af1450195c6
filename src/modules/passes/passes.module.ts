import { Module } from '@nestjs/common';
import { PkpassModule } from '../../integrations/pkpass/pkpass.module';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { LinksModule } from '../links/links.module';
import { WalletConfigurationsModule } from '../wallet-configurations/wallet-configurations.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { PassContentService } from './pass-content.service';
import { PassIssuingController } from './pass-issuing.controller';
import { PassIssuingService } from './pass-issuing.service';
import { PassGoogleObjectService } from './pass-google-object.service';
import { PassesRepository } from './passes.repository';

@Module({
  imports: [PkpassModule, CampaignsModule, LinksModule, WalletConfigurationsModule, WebhooksModule],
  controllers: [PassIssuingController],
  providers: [PassesRepository, PassContentService, PassIssuingService, PassGoogleObjectService],
  exports: [PassesRepository, PassContentService, PassIssuingService, PassGoogleObjectService],
})
export class PassesModule {}
