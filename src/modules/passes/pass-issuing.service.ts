import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../common/errors';
import { GoogleWalletError } from '../../integrations/google-wallet/google-wallet.client';
import { GoogleWalletGateway } from '../../integrations/google-wallet/google-wallet.module';
import { GOOGLE_TYPE_BY_STYLE, PersonalisationData } from '../../domain/pass-design/campaign-template';
import { CampaignsService } from '../campaigns/campaigns.service';
import { CampaignIssuingContext } from '../campaigns/campaigns.repository';
import { LinksService } from '../links/links.service';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import { PassContentService } from './pass-content.service';
import { Pass } from './pass.entity';
import { PassesRepository } from './passes.repository';

export type IssuedPass =
  | { platform: 'APPLE'; pkpass: Buffer; serialNumber: string; lastModified: Date }
  | { platform: 'GOOGLE'; saveUrl: string; serialNumber: string };

/** Pass identity: the voucher code, or the contact id when the link has no voucher code. */
export function passIdentity(data: PersonalisationData): string {
  const code = data.voucher.code;
  if (code !== undefined && code !== null && String(code) !== '') return `v:${String(code)}`;
  return `c:${String(data.contact.id)}`;
}

export function newSerialNumber(): string {
  return randomBytes(16).toString('base64url');
}

export function newAuthenticationToken(): string {
  return randomBytes(24).toString('base64url');
}

/** From a tapped link to a pass: find or create the pass, then build it (Apple) or save it (Google). */
@Injectable()
export class PassIssuingService {
  private readonly logger = new Logger(PassIssuingService.name);

  constructor(
    private readonly links: LinksService,
    private readonly campaigns: CampaignsService,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly passes: PassesRepository,
    private readonly content: PassContentService,
    private readonly google: GoogleWalletGateway,
    private readonly webhooks: WebhooksService,
  ) {}

  async issue(token: string): Promise<IssuedPass> {
    const claims = this.links.verify(token);
    const ctx = await this.campaigns.issuingContext(claims.campaignId);
    if (!ctx || ctx.tenantId !== claims.tenantId)
      throw DomainError.notFound('CAMPAIGN_NOT_FOUND', 'Campaign');
    if (ctx.status === 'ended')
      throw new DomainError('CAMPAIGN_ENDED', 'This campaign has ended; its passes can no longer be added');
    if (ctx.linkTtlSeconds !== null && claims.issuedAt.getTime() + ctx.linkTtlSeconds * 1000 < Date.now()) {
      throw new DomainError('LINK_EXPIRED', 'This link has expired');
    }
    const data: PersonalisationData = { contact: claims.contact, voucher: claims.voucher };
    if (claims.platform === 'APPLE') {
      if (!ctx.applePassTypeIdentifier) throw notConfigured('Apple Wallet');
      const { pass, created } = await this.findOrCreate(ctx, data, true);
      const pkpass = await this.content.buildApplePass(ctx, pass);
      if (!pass.appleIssuedAt) await this.passes.markAppleIssued(pass.id, ctx.applePassTypeIdentifier);
      if (created || !pass.appleIssuedAt) await this.issued(ctx, pass, 'APPLE');
      return {
        platform: 'APPLE',
        pkpass,
        serialNumber: pass.serialNumber,
        lastModified: lastModifiedOf(pass, ctx),
      };
    }
    if (!ctx.googleIssuerId || !ctx.googleClassId) throw notConfigured('Google Wallet');
    const { pass } = await this.findOrCreate(ctx, data);
    return {
      platform: 'GOOGLE',
      saveUrl: await this.saveToGoogle(ctx, pass),
      serialNumber: pass.serialNumber,
    };
  }

  private findOrCreate(ctx: CampaignIssuingContext, data: PersonalisationData, appleIssued = false) {
    return this.passes.findOrCreate({
      tenantId: ctx.tenantId,
      campaignId: ctx.campaignId,
      identity: passIdentity(data),
      serialNumber: newSerialNumber(),
      authenticationToken: newAuthenticationToken(),
      passTypeIdentifier: ctx.applePassTypeIdentifier,
      data,
      appleIssued,
    });
  }

  /** The first time a pass reaches a platform: the tenant's webhooks hear `pass.issued`. */
  private issued(ctx: CampaignIssuingContext, pass: Pass, platform: 'APPLE' | 'GOOGLE'): Promise<void> {
    return this.webhooks.emitNow(ctx.tenantId, 'pass.issued', {
      campaignId: ctx.campaignId,
      serialNumber: pass.serialNumber,
      platform,
    });
  }

  /** Inserts the pass object once (409 = it exists: same pass), then signs a save link naming it. */
  private async saveToGoogle(ctx: CampaignIssuingContext, pass: Pass): Promise<string> {
    const cfg = await this.walletConfigurations.findById(ctx.walletConfigurationId);
    const creds = cfg ? this.walletConfigurations.decryptGoogle(cfg) : null;
    if (!cfg || !creds) throw notConfigured('Google Wallet');
    const objectId = pass.googleObjectId ?? this.content.googleObjectId(creds.issuerId, pass);
    const type = GOOGLE_TYPE_BY_STYLE[ctx.passStyle];
    if (!pass.googleObjectSyncedAt) {
      try {
        const client = this.google.client(cfg.id, cfg.version, creds.serviceAccountKey);
        if (ctx.googleSyncStatus !== 'SYNCED') {
          // The class may not exist yet (Google was down when the campaign was made): make it now.
          const campaign = await this.campaigns.findByIdInternal(ctx.campaignId);
          if (campaign) await this.campaigns.syncGoogleClass(campaign);
        }
        await client.insertObject(type, this.content.googleObject(ctx, pass, objectId));
        await this.passes.markGoogleObject(pass.id, objectId, null);
        await this.issued(ctx, pass, 'GOOGLE');
      } catch (err) {
        if (err instanceof GoogleWalletError) {
          this.logger.warn(
            { passId: pass.id, status: err.status, reason: err.reason },
            'Google Wallet did not take the pass object',
          );
          if (err.retryable) {
            throw new DomainError(
              'GOOGLE_UNAVAILABLE',
              'Google Wallet is not reachable right now; please try again in a minute',
              undefined,
              {
                'Retry-After': '30',
              },
            );
          }
          throw new DomainError('PLATFORM_NOT_CONFIGURED', `Google Wallet refused the pass: ${err.message}`);
        }
        throw err;
      }
    }
    try {
      return this.google.saveLink(creds.serviceAccountKey, type, objectId, ctx.googleClassId!);
    } catch (err) {
      // A stored key that cannot sign RS256 (for example one shorter than 2,048 bits, accepted
      // before configurations were checked for it) is a configuration problem, not a server error.
      this.logger.warn(
        { walletConfigurationId: cfg.id, reason: (err as Error).message },
        'the Google service-account key cannot sign save links',
      );
      throw new DomainError(
        'PLATFORM_NOT_CONFIGURED',
        'Google Wallet is not usable for this campaign: its service-account key cannot sign save links (RS256 needs an RSA key of at least 2048 bits)',
      );
    }
  }
}

function notConfigured(platform: string): DomainError {
  return new DomainError('PLATFORM_NOT_CONFIGURED', `This campaign is not set up for ${platform}`);
}

/** The later of the pass's and the campaign's last content change. */
export function lastModifiedOf(pass: Pass, ctx: CampaignIssuingContext): Date {
  return pass.updatedAt > ctx.contentUpdatedAt ? pass.updatedAt : ctx.contentUpdatedAt;
}
