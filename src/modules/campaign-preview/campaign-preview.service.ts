import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors';
import {
  CampaignTemplate,
  PersonalisationData,
  PersonalisationValue,
} from '../../domain/pass-design/campaign-template';
import { CampaignGoogleClassService } from '../campaigns/campaign-google-class.service';
import { CampaignIssuingContext } from '../campaigns/campaigns.repository';
import { CampaignsService, normaliseTemplate } from '../campaigns/campaigns.service';
import { renderTemplate } from '../../domain/pass-design/template-renderer';
import { validateLinkRequest } from '../links/link-request.validator';
import { LinksService } from '../links/links.service';
import { PassContentService } from '../passes/pass-content.service';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import {
  CampaignPreviewDto,
  CampaignPreviewResponseDto,
  PreviewSampleDto,
  TestLinkDto,
  TestLinkResponseDto,
} from './dto/campaign-preview.dto';

/** Stand-ins where a preview has no real value (no configuration chosen, no pass issued). */
export const PREVIEW_PLACEHOLDERS = {
  passTypeIdentifier: 'pass.example.preview',
  teamIdentifier: 'PREVIEW000',
  googleIssuerId: '3388000000000000000',
  serialNumber: 'PREVIEW',
  authenticationToken: 'preview-authentication-token',
  campaignId: '00000000-0000-4000-8000-000000000000',
} as const;

/**
 * The console's live preview and "try it" links. The preview goes through the same template
 * renderer and the same pass.json / Google mappers (via PassContentService and
 * CampaignGoogleClassService) as real passes, so it cannot drift from what phones receive.
 */
@Injectable()
export class CampaignPreviewService {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly content: PassContentService,
    private readonly googleClass: CampaignGoogleClassService,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly links: LinksService,
  ) {}

  /** A design that is not saved yet: validated like campaign creation; images are left out. */
  async previewDraft(tenantId: string, dto: CampaignPreviewDto): Promise<CampaignPreviewResponseDto> {
    const template = normaliseTemplate(dto.template);
    const data = sampleData(dto.sample, 'sample', false);
    const cfg = dto.walletConfigurationId
      ? await this.walletConfigurations.get(tenantId, dto.walletConfigurationId).catch((err: unknown) => {
          if (err instanceof DomainError && err.status === 404) {
            throw new DomainError('WALLET_CONFIGURATION_NOT_FOUND', 'walletConfigurationId: not found', [
              { field: 'walletConfigurationId', message: 'not found' },
            ]);
          }
          throw err;
        })
      : null;
    const campaignId = PREVIEW_PLACEHOLDERS.campaignId;
    const issuer = cfg?.googleIssuerId ?? PREVIEW_PLACEHOLDERS.googleIssuerId;
    return this.render(
      {
        ...baseContext(tenantId, campaignId, dto.passStyle, template),
        googleClassId: this.googleClass.classIdFor(issuer, campaignId),
      },
      {
        passTypeIdentifier: cfg?.applePassTypeIdentifier ?? PREVIEW_PLACEHOLDERS.passTypeIdentifier,
        teamIdentifier: cfg?.appleTeamIdentifier ?? PREVIEW_PLACEHOLDERS.teamIdentifier,
      },
      data,
      false,
    );
  }

  /** A saved campaign as it is now, with its images (by URL) and its configuration's ids. */
  async previewSaved(
    tenantId: string,
    campaignId: string,
    sample: PreviewSampleDto,
  ): Promise<CampaignPreviewResponseDto> {
    const data = sampleData(sample, 'sample', false);
    const campaign = await this.campaigns.getEntity(tenantId, campaignId);
    const cfg = await this.walletConfigurations.findById(campaign.walletConfigurationId);
    const issuer = cfg?.googleIssuerId ?? PREVIEW_PLACEHOLDERS.googleIssuerId;
    return this.render(
      {
        ...baseContext(tenantId, campaign.id, campaign.passStyle, campaign.template),
        walletConfigurationId: campaign.walletConfigurationId,
        imageNames: campaign.imageNames ?? [],
        googleClassId: campaign.googleClassId ?? this.googleClass.classIdFor(issuer, campaign.id),
      },
      {
        passTypeIdentifier: cfg?.applePassTypeIdentifier ?? PREVIEW_PLACEHOLDERS.passTypeIdentifier,
        teamIdentifier: cfg?.appleTeamIdentifier ?? PREVIEW_PLACEHOLDERS.teamIdentifier,
      },
      data,
      true,
    );
  }

  /** A normal signed link for the sample data (tapping it issues the pass). */
  async testLink(tenantId: string, campaignId: string, dto: TestLinkDto): Promise<TestLinkResponseDto> {
    const data = sampleData(dto, '', true);
    const campaign = await this.campaigns.getEntity(tenantId, campaignId);
    if (campaign.status === 'ended') {
      throw new DomainError('CAMPAIGN_ENDED', 'This campaign has ended; its links answer 410');
    }
    const cfg = await this.walletConfigurations.findById(campaign.walletConfigurationId);
    const configured = dto.platform === 'APPLE' ? cfg?.applePassTypeIdentifier : cfg?.googleIssuerId;
    if (!configured) {
      throw new DomainError(
        'PLATFORM_NOT_CONFIGURED',
        `platform: this campaign's wallet configuration has no ${dto.platform === 'APPLE' ? 'Apple' : 'Google'} block`,
        [{ field: 'platform', message: 'not configured for this campaign' }],
      );
    }
    const { urls } = this.links.generate(tenantId, {
      requests: [
        { campaignId: campaign.id, platform: dto.platform, contact: data.contact, voucher: data.voucher },
      ],
    });
    const first = urls[0];
    if (!first || !('url' in first)) throw new Error('a validated test link could not be signed');
    return { url: first.url };
  }

  private render(
    ctx: CampaignIssuingContext & { googleClassId: string },
    ids: { passTypeIdentifier: string; teamIdentifier: string },
    data: PersonalisationData,
    withImages: boolean,
  ): CampaignPreviewResponseDto {
    const rendered: CampaignTemplate = renderTemplate(ctx.template, data);
    const pass = {
      serialNumber: PREVIEW_PLACEHOLDERS.serialNumber,
      authenticationToken: PREVIEW_PLACEHOLDERS.authenticationToken,
      voided: false,
      data,
    };
    const issuer = ctx.googleClassId.split('.')[0]!;
    const objectId = this.content.googleObjectId(issuer, pass);
    return {
      apple: { passJson: this.content.applePassJson(ctx, pass, ids, rendered) },
      google: {
        classResource: this.googleClass.classResource(
          {
            id: ctx.campaignId,
            passStyle: ctx.passStyle,
            template: ctx.template,
            googleClassId: ctx.googleClassId,
          },
          withImages ? ctx.imageNames : null,
        ),
        objectResource: this.content.googleObject(ctx, pass, objectId, { withImages, rendered }),
      },
    };
  }
}

function baseContext(
  tenantId: string,
  campaignId: string,
  passStyle: CampaignIssuingContext['passStyle'],
  template: CampaignTemplate,
): CampaignIssuingContext {
  return {
    campaignId,
    tenantId,
    walletConfigurationId: PREVIEW_PLACEHOLDERS.campaignId,
    walletConfigurationVersion: 0,
    passStyle,
    template,
    status: 'active',
    linkTtlSeconds: null,
    googleClassId: null,
    googleSyncStatus: null,
    contentVersion: 0,
    contentUpdatedAt: new Date(0),
    changeSeq: '0',
    applePassTypeIdentifier: null,
    googleIssuerId: null,
    imageNames: [],
  };
}

/**
 * Sample contact/voucher data, checked by the same rules as link requests (flat values, sizes).
 * `needIdentity`: a real pass needs a voucher code or contact id (test links); a preview does not.
 */
function sampleData(
  sample: { contact: Record<string, unknown>; voucher: Record<string, unknown> },
  prefix: string,
  needIdentity: boolean,
): PersonalisationData {
  const v = validateLinkRequest(
    {
      campaignId: PREVIEW_PLACEHOLDERS.campaignId,
      platform: 'APPLE',
      contact: sample.contact,
      voucher: sample.voucher,
    },
    0,
  );
  if (!v.ok && (needIdentity || v.error.code !== 'MISSING_IDENTITY')) {
    const message = v.error.message.replace(/^requests\[0\]\.?/, '');
    const path =
      /^(contact|voucher)[\w.[\]-]*/.exec(message)?.[0] ??
      (v.error.code === 'MISSING_IDENTITY' ? 'voucher.code' : 'contact');
    const field = prefix ? `${prefix}.${path}` : path;
    throw new DomainError('VALIDATION_FAILED', `${prefix ? `${prefix}.` : ''}${message}`, [
      { field, message },
    ]);
  }
  return {
    contact: sample.contact as Record<string, PersonalisationValue>,
    voucher: (sample.voucher ?? {}) as Record<string, PersonalisationValue>,
  };
}
