import { Injectable } from '@nestjs/common';
import {
  GoogleWalletError,
  GoogleWalletResource,
} from '../../integrations/google-wallet/google-wallet.client';
import { GoogleWalletGateway } from '../../integrations/google-wallet/google-wallet.module';
import {
  buildGoogleClass,
  googleResourceSuffix,
} from '../../integrations/google-wallet/google-wallet.mapper';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { GOOGLE_TYPE_BY_STYLE, ImageName } from '../../domain/pass-design/campaign-template';
import { Campaign } from './campaign.entity';
import { CampaignsRepository } from './campaigns.repository';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';

/** Creates or patches the Google Wallet class of a campaign and records the outcome on it. */
@Injectable()
export class CampaignGoogleClassService {
  constructor(
    private readonly repo: CampaignsRepository,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly google: GoogleWalletGateway,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  classIdFor(issuerId: string, campaignId: string): string {
    return `${issuerId}.${googleResourceSuffix(`campaign_${campaignId.replace(/-/g, '')}`)}`;
  }

  /**
   * Upserts the class. Marks the campaign SYNCED on success (unless its content moved on
   * meanwhile), FAILED on an error retrying cannot fix, PENDING with the error otherwise; rethrows.
   */
  async syncNow(campaign: Campaign): Promise<'created' | 'updated'> {
    const cfg = await this.walletConfigurations.findById(campaign.walletConfigurationId);
    const creds = cfg ? this.walletConfigurations.decryptGoogle(cfg) : null;
    if (!cfg || !creds || !campaign.googleClassId) {
      await this.repo.setGoogleSync(campaign.id, 'FAILED', 'the wallet configuration has no Google block');
      throw new GoogleWalletError('the wallet configuration has no Google block', { retryable: false });
    }
    const images = campaign.imageNames ?? (await this.repo.imageNames(campaign.id));
    const resource = this.classResource({ ...campaign, googleClassId: campaign.googleClassId }, images);
    try {
      const outcome = await this.google
        .client(cfg.id, cfg.version, creds.serviceAccountKey)
        .upsertClass(GOOGLE_TYPE_BY_STYLE[campaign.passStyle], resource);
      await this.repo.setGoogleSync(campaign.id, 'SYNCED', null, {
        countAttempt: true,
        onlyIfContentVersion: campaign.contentVersion,
      });
      return outcome;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const retryable = err instanceof GoogleWalletError ? err.retryable : false;
      await this.repo.setGoogleSync(campaign.id, retryable ? 'PENDING' : 'FAILED', message, {
        countAttempt: true,
      });
      throw err;
    }
  }

  /**
   * The class resource written to Google (also shown by the campaign preview). `images` null:
   * a campaign that is not saved yet, so no image URLs.
   */
  classResource(
    campaign: Pick<Campaign, 'id' | 'passStyle' | 'template'> & { googleClassId: string },
    images: ImageName[] | null,
  ): GoogleWalletResource {
    const logoName = images?.includes('logo') ? 'logo' : 'icon';
    return buildGoogleClass({
      style: campaign.passStyle,
      classId: campaign.googleClassId,
      template: campaign.template,
      issuerName: campaign.template.organizationName,
      logoUrl: images ? `${this.config.publicBaseUrl}/api/assets/${campaign.id}/${logoName}.png` : undefined,
      heroImageUrl: images?.includes('strip')
        ? `${this.config.publicBaseUrl}/api/assets/${campaign.id}/strip.png`
        : undefined,
    });
  }

  async markFailed(campaignId: string, error: string): Promise<void> {
    await this.repo.setGoogleSync(campaignId, 'FAILED', error);
  }
}
