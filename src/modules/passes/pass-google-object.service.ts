import { Injectable } from '@nestjs/common';
import { GoogleWalletError } from '../../integrations/google-wallet/google-wallet.client';
import { GoogleWalletGateway } from '../../integrations/google-wallet/google-wallet.module';
import { GOOGLE_TYPE_BY_STYLE } from '../../domain/pass-design/campaign-template';
import { CampaignsService } from '../campaigns/campaigns.service';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { PassContentService } from './pass-content.service';
import { PassesRepository } from './passes.repository';

export type ObjectSyncOutcome = 'patched' | 'not-saved-yet' | 'gone';

/** Brings a pass's Google object in line with the pass (data, voided state) and its campaign. */
@Injectable()
export class PassGoogleObjectService {
  constructor(
    private readonly passes: PassesRepository,
    private readonly campaigns: CampaignsService,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly content: PassContentService,
    private readonly google: GoogleWalletGateway,
  ) {}

  async sync(tenantId: string, passId: string): Promise<ObjectSyncOutcome> {
    const pass = await this.passes.findById(passId);
    if (!pass || pass.tenantId !== tenantId) return 'gone';
    // Objects are inserted when the user taps a Google link; until then there is nothing to patch.
    if (!pass.googleObjectId || !pass.googleObjectSyncedAt) return 'not-saved-yet';
    const ctx = await this.campaigns.issuingContext(pass.campaignId);
    const cfg = ctx ? await this.walletConfigurations.findById(ctx.walletConfigurationId) : null;
    const creds = cfg ? this.walletConfigurations.decryptGoogle(cfg) : null;
    if (!ctx || !cfg || !creds || !ctx.googleClassId) return 'gone';
    const resource = this.content.googleObject(ctx, pass, pass.googleObjectId);
    const { id: _id, classId: _classId, ...changes } = resource;
    try {
      await this.google
        .client(cfg.id, cfg.version, creds.serviceAccountKey)
        .patchObject(GOOGLE_TYPE_BY_STYLE[ctx.passStyle], pass.googleObjectId, changes);
      await this.passes.markGoogleObject(pass.id, pass.googleObjectId, null);
      return 'patched';
    } catch (err) {
      if (err instanceof GoogleWalletError) await this.passes.recordGoogleError(pass.id, err.message);
      throw err;
    }
  }
}
