import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DomainError } from '../../common/errors';
import { defaultIconFiles } from '../../integrations/pkpass/default-icon';
import { buildPassJson } from '../../integrations/pkpass/pass-json.mapper';
import {
  PassSigningMaterial,
  PassSigningMaterialError,
} from '../../integrations/pkpass/pass-signing-material';
import { PkpassService } from '../../integrations/pkpass/pkpass.service';
import {
  buildGoogleObject,
  googleResourceSuffix,
} from '../../integrations/google-wallet/google-wallet.mapper';
import type { GoogleWalletResource } from '../../integrations/google-wallet/google-wallet.client';
import { CampaignTemplate, ImageName } from '../../domain/pass-design/campaign-template';
import { CampaignsService } from '../campaigns/campaigns.service';
import { CampaignIssuingContext } from '../campaigns/campaigns.repository';
import { compileTemplate, CompiledTemplate } from '../../domain/pass-design/template-renderer';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { Pass } from './pass.entity';

/** A small LRU: enough entries for the active campaigns and configurations of one process. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

interface AppleSigning {
  material: PassSigningMaterial;
  passTypeIdentifier: string;
  teamIdentifier: string;
}

/**
 * Builds a pass's content for either platform from its campaign and data. Signing material,
 * compiled templates and campaign images are cached per configuration version and campaign
 * content version, so a change anywhere is picked up by the next pass without invalidation.
 */
@Injectable()
export class PassContentService {
  private readonly signing = new Lru<Promise<AppleSigning | null>>(200);
  private readonly templates = new Lru<CompiledTemplate>(500);
  private readonly files = new Lru<Promise<Record<string, Buffer>>>(100);
  private readonly defaultIcons = defaultIconFiles();

  constructor(
    private readonly pkpass: PkpassService,
    private readonly campaigns: CampaignsService,
    private readonly walletConfigurations: WalletConfigurationsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  render(ctx: CampaignIssuingContext, pass: Pick<Pass, 'data'>): CampaignTemplate {
    const key = `${ctx.campaignId}:${ctx.contentVersion}`;
    let compiled = this.templates.get(key);
    if (!compiled) {
      compiled = compileTemplate(ctx.template);
      this.templates.set(key, compiled);
    }
    return compiled.render(pass.data);
  }

  /** The Apple signing material of a configuration version, or null when it has no Apple block. */
  async appleSigning(ctx: CampaignIssuingContext): Promise<AppleSigning | null> {
    const key = `${ctx.walletConfigurationId}:${ctx.walletConfigurationVersion}`;
    let entry = this.signing.get(key);
    if (!entry) {
      entry = this.loadSigning(ctx.walletConfigurationId);
      this.signing.set(key, entry);
      // A failure is not cached: the next pass tries again.
      entry.catch(() => this.signing.delete(key));
    }
    return entry;
  }

  async buildApplePass(ctx: CampaignIssuingContext, pass: Pass): Promise<Buffer> {
    const signing = await this.appleSigning(ctx);
    if (!signing) {
      throw new DomainError(
        'PLATFORM_NOT_CONFIGURED',
        "This campaign's wallet configuration has no Apple Wallet credentials",
      );
    }
    const passJson = this.applePassJson(ctx, pass, signing);
    return this.pkpass.build({ passJson, files: await this.campaignFiles(ctx), signing: signing.material });
  }

  /** The pass.json of a pass (what buildApplePass signs; the campaign preview shows the same). */
  applePassJson(
    ctx: CampaignIssuingContext,
    pass: Pick<Pass, 'serialNumber' | 'authenticationToken' | 'voided' | 'data'>,
    ids: { passTypeIdentifier: string; teamIdentifier: string },
    rendered?: CampaignTemplate,
  ): Record<string, unknown> {
    return buildPassJson({
      style: ctx.passStyle,
      template: rendered ?? this.render(ctx, pass),
      passTypeIdentifier: ids.passTypeIdentifier,
      teamIdentifier: ids.teamIdentifier,
      serialNumber: pass.serialNumber,
      authenticationToken: pass.authenticationToken,
      webServiceURL: this.config.publicBaseUrl,
      voided: pass.voided,
    });
  }

  googleObjectId(issuerId: string, pass: Pick<Pass, 'serialNumber'>): string {
    return `${issuerId}.${googleResourceSuffix(`pass_${pass.serialNumber}`)}`;
  }

  /**
   * The pass's Google object. For previews: `rendered` is the template already filled in (not
   * cached by campaign version), `withImages: false` leaves image URLs out (an unsaved campaign).
   */
  googleObject(
    ctx: CampaignIssuingContext,
    pass: Pick<Pass, 'serialNumber' | 'voided' | 'data'>,
    objectId: string,
    opts: { withImages?: boolean; rendered?: CampaignTemplate } = {},
  ): GoogleWalletResource {
    const withImages = opts.withImages ?? true;
    const logo: ImageName = ctx.imageNames.includes('logo') ? 'logo' : 'icon';
    const contactName = [pass.data.contact.firstName, pass.data.contact.lastName]
      .filter((v) => v !== undefined && v !== null)
      .join(' ');
    return buildGoogleObject({
      style: ctx.passStyle,
      objectId,
      classId: ctx.googleClassId!,
      template: opts.rendered ?? this.render(ctx, pass),
      state: pass.voided ? 'INACTIVE' : 'ACTIVE',
      logoUrl: withImages ? this.assetUrl(ctx.campaignId, logo) : undefined,
      heroImageUrl:
        withImages && ctx.imageNames.includes('strip') ? this.assetUrl(ctx.campaignId, 'strip') : undefined,
      accountId:
        ctx.passStyle === 'storeCard' ? String(pass.data.contact.id ?? pass.serialNumber) : undefined,
      accountName: ctx.passStyle === 'storeCard' && contactName ? contactName : undefined,
    });
  }

  private assetUrl(campaignId: string, name: ImageName): string {
    return `${this.config.publicBaseUrl}/api/assets/${campaignId}/${name}.png`;
  }

  private async campaignFiles(ctx: CampaignIssuingContext): Promise<Record<string, Buffer>> {
    const key = `${ctx.campaignId}:${ctx.contentVersion}`;
    let entry = this.files.get(key);
    if (!entry) {
      entry = this.campaigns.imageFiles(ctx.campaignId).then((images) => {
        const files: Record<string, Buffer> = {};
        for (const [name, png] of Object.entries(images)) if (png) files[`${name}.png`] = png;
        if (!files['icon.png']) Object.assign(files, this.defaultIcons);
        return files;
      });
      this.files.set(key, entry);
    }
    return entry;
  }

  private async loadSigning(configId: string): Promise<AppleSigning | null> {
    const cfg = await this.walletConfigurations.findById(configId);
    const creds = cfg ? this.walletConfigurations.decryptApple(cfg) : null;
    if (!creds) return null;
    try {
      const material = this.pkpass.createSigningMaterial(creds);
      return { material, passTypeIdentifier: creds.passTypeIdentifier, teamIdentifier: creds.teamIdentifier };
    } catch (err) {
      if (err instanceof PassSigningMaterialError) {
        throw new DomainError(
          'PLATFORM_NOT_CONFIGURED',
          `The Apple credentials of this campaign cannot sign passes: ${err.message}`,
        );
      }
      throw err;
    }
  }
}
