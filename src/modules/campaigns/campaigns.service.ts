import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DomainError } from '../../common/errors';
import { page, Page, PaginationQueryDto } from '../../common/pagination/pagination';
import { OutboxService } from '../outbox/outbox.service';
import { CAMPAIGN_CHANGED_SET } from '../passes/change-tracking';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { assertImageName, decodeImage } from './campaign-images';
import { CampaignTemplate, FIELD_GROUPS, ImageName } from '../../domain/pass-design/campaign-template';
import { Campaign } from './campaign.entity';
import { CampaignGoogleClassService } from './campaign-google-class.service';
import { CampaignIssuingContext, CampaignsRepository, NewImage } from './campaigns.repository';
import {
  CampaignResponseDto,
  CampaignTemplateDto,
  CreateCampaignDto,
  UpdateCampaignDto,
} from './dto/campaign.dto';
import { findTemplateTokenError } from '../../domain/pass-design/template-renderer';

/** How long a replica may issue passes from a cached campaign context (other replicas' changes). */
export const ISSUING_CONTEXT_TTL_MS = 2000;

/** Hooks other modules register to act inside the transaction that changes a campaign's content. */
export interface CampaignContentChangeHook {
  /** May return the id of a campaign update it started (for progress polling). */
  onCampaignContentChanged(m: EntityManager, campaign: Campaign): Promise<string | void>;
}

@Injectable()
export class CampaignsService {
  private readonly logger = new Logger(CampaignsService.name);
  private readonly contentHooks: CampaignContentChangeHook[] = [];
  /** Hot-path cache of issuing contexts; cleared here on change, bounded by a short TTL across replicas. */
  private readonly contexts = new Map<string, { ctx: CampaignIssuingContext | null; expiresAt: number }>();

  constructor(
    private readonly repo: CampaignsRepository,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly outbox: OutboxService,
    private readonly googleClass: CampaignGoogleClassService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  registerContentChangeHook(hook: CampaignContentChangeHook): void {
    this.contentHooks.push(hook);
  }

  async create(tenantId: string, dto: CreateCampaignDto): Promise<CampaignResponseDto> {
    const template = normaliseTemplate(dto.template);
    const images = decodeImages({ ...(dto.images ?? {}) });
    const walletConfiguration = await this.walletConfigurations
      .get(tenantId, dto.walletConfigurationId)
      .catch((err: unknown) => {
        if (err instanceof DomainError && err.status === 404) {
          throw new DomainError(
            'WALLET_CONFIGURATION_NOT_FOUND',
            'walletConfigurationId: wallet configuration not found',
            [{ field: 'walletConfigurationId', message: 'not found' }],
          );
        }
        throw err;
      });
    const id = randomUUID();
    const googleIssuer = walletConfiguration.googleIssuerId;
    const googleClassId = googleIssuer ? this.googleClass.classIdFor(googleIssuer, id) : null;

    await this.repo.transaction(async (m) => {
      await this.repo.insert(m, {
        id,
        tenantId,
        walletConfigurationId: walletConfiguration.id,
        name: dto.name,
        passStyle: dto.passStyle,
        template,
        linkTtlSeconds: dto.linkTtlSeconds ?? null,
        googleClassId,
        googleSyncStatus: googleClassId ? 'PENDING' : null,
      });
      await this.repo.upsertImages(m, tenantId, id, images);
      if (googleClassId)
        await this.outbox.add(m, tenantId, 'google.class.sync', {
          tenantId,
          campaignId: id,
          contentVersion: 1,
        });
    });

    let campaign = await this.mustFind(tenantId, id);
    if (googleClassId) {
      // Try at once so the answer usually says SYNCED; the outbox job retries when Google is away.
      await this.googleClass.syncNow(campaign).catch((err: Error) => {
        this.logger.warn({ campaignId: id, err: err.message }, 'Google class not created yet; will retry');
      });
      campaign = await this.mustFind(tenantId, id);
    }
    return this.toDto(campaign);
  }

  async list(tenantId: string, q: PaginationQueryDto): Promise<Page<CampaignResponseDto>> {
    const [rows, total] = await this.repo.list(tenantId, q.limit, q.offset);
    return page(
      rows.map((r) => this.toDto(r)),
      total,
      q,
    );
  }

  async get(tenantId: string, id: string): Promise<CampaignResponseDto> {
    return this.toDto(await this.mustFind(tenantId, id));
  }

  /** The campaign entity, for other modules; 404 across tenants. */
  async getEntity(tenantId: string, id: string): Promise<Campaign> {
    return this.mustFind(tenantId, id);
  }

  async findByIdInternal(id: string): Promise<Campaign | null> {
    return this.repo.findByIdInternal(id);
  }

  /** Campaign, configuration version and image names for building passes (one query; no tenant filter: callers check). */
  async issuingContext(campaignId: string): Promise<CampaignIssuingContext | null> {
    const hit = this.contexts.get(campaignId);
    if (hit && hit.expiresAt > Date.now()) return hit.ctx;
    const ctx = await this.repo.issuingContext(campaignId);
    if (this.contexts.size >= 5000) this.contexts.clear();
    this.contexts.set(campaignId, { ctx, expiresAt: Date.now() + ISSUING_CONTEXT_TTL_MS });
    return ctx;
  }

  private forgetContext(campaignId: string): void {
    this.contexts.delete(campaignId);
  }

  /** Creates or patches the campaign's Google class now (used when a pass needs it before the retry job ran). */
  async syncGoogleClass(campaign: Campaign): Promise<void> {
    try {
      await this.googleClass.syncNow(campaign);
    } finally {
      this.forgetContext(campaign.id);
    }
  }

  /** The campaign's images as pass bundle files (`icon.png`, …). */
  async imageFiles(campaignId: string): Promise<Partial<Record<ImageName, Buffer>>> {
    const rows = await this.repo.images(campaignId);
    return Object.fromEntries(rows.map((r) => [r.name, r.png]));
  }

  async update(tenantId: string, id: string, dto: UpdateCampaignDto): Promise<CampaignResponseDto> {
    const template = dto.template ? normaliseTemplate(dto.template) : undefined;
    const setImages: NewImage[] = [];
    const removeImages: ImageName[] = [];
    for (const [name, value] of Object.entries(dto.images ?? {})) {
      if (value === null) removeImages.push(assertImageName(name));
      else setImages.push(decodeImage(name, value));
    }
    const contentChanged = template !== undefined || setImages.length > 0 || removeImages.length > 0;

    let updateId: string | undefined;
    await this.repo.transaction(async (m) => {
      const current = await this.repo.findForUpdate(m, tenantId, id);
      if (!current) throw DomainError.notFound('CAMPAIGN_NOT_FOUND', 'Campaign');
      if (current.status === 'ended')
        throw new DomainError('CAMPAIGN_ENDED', 'Campaign has ended and cannot be changed');
      const patch: Partial<Campaign> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.linkTtlSeconds !== undefined) patch.linkTtlSeconds = dto.linkTtlSeconds;
      if (template) patch.template = template;
      if (Object.keys(patch).length > 0) await m.update(Campaign, { id, tenantId }, patch);
      await this.repo.upsertImages(m, tenantId, id, setImages);
      await this.repo.deleteImages(m, tenantId, id, removeImages);
      if (contentChanged) {
        const [rows] = await m.query<[{ content_version: number }[], number]>(
          `UPDATE campaigns SET ${CAMPAIGN_CHANGED_SET},
             google_sync_status = CASE WHEN google_class_id IS NULL THEN NULL ELSE 'PENDING' END, updated_at = now()
           WHERE id = $1 AND tenant_id = $2 RETURNING content_version`,
          [id, tenantId],
        );
        const contentVersion = rows[0]!.content_version;
        if (current.googleClassId) {
          await this.outbox.add(m, tenantId, 'google.class.sync', {
            tenantId,
            campaignId: id,
            contentVersion,
          });
        }
        const changed = (await this.repo.findForUpdate(m, tenantId, id))!;
        for (const hook of this.contentHooks) {
          const started = await hook.onCampaignContentChanged(m, changed);
          if (started) updateId = started;
        }
      }
    });
    this.forgetContext(id);
    // The Google class and objects are patched by the worker (outbox): no Google call in here.
    const campaign = await this.mustFind(tenantId, id);
    return { ...this.toDto(campaign), ...(updateId ? { updateId } : {}) };
  }

  /** Ends the campaign: its links answer 410 from now on. Idempotent. */
  async end(tenantId: string, id: string): Promise<CampaignResponseDto> {
    await this.repo.transaction(async (m) => {
      const current = await this.repo.findForUpdate(m, tenantId, id);
      if (!current) throw DomainError.notFound('CAMPAIGN_NOT_FOUND', 'Campaign');
      if (current.status !== 'ended') {
        await m.update(Campaign, { id, tenantId }, { status: 'ended', endedAt: new Date() });
      }
    });
    this.forgetContext(id);
    return this.get(tenantId, id);
  }

  imageUrl(campaignId: string, name: ImageName): string {
    return `${this.config.publicBaseUrl}/api/assets/${campaignId}/${name}.png`;
  }

  toDto(c: Campaign): CampaignResponseDto {
    const images: Record<string, string> = {};
    for (const name of c.imageNames ?? []) images[name] = this.imageUrl(c.id, name);
    return {
      id: c.id,
      name: c.name,
      walletConfigurationId: c.walletConfigurationId,
      passStyle: c.passStyle,
      template: c.template,
      images,
      status: c.status,
      linkTtlSeconds: c.linkTtlSeconds,
      google: c.googleClassId
        ? {
            classId: c.googleClassId,
            syncStatus: c.googleSyncStatus ?? 'PENDING',
            lastError: c.googleSyncError,
          }
        : null,
      contentVersion: c.contentVersion,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
      endedAt: c.endedAt ? c.endedAt.toISOString() : null,
    };
  }

  private async mustFind(tenantId: string, id: string): Promise<Campaign> {
    const c = await this.repo.find(tenantId, id);
    if (!c) throw DomainError.notFound('CAMPAIGN_NOT_FOUND', 'Campaign');
    return c;
  }
}

function decodeImages(images: Record<string, unknown>): NewImage[] {
  return Object.entries(images)
    .filter(([, v]) => v !== undefined)
    .map(([name, value]) => decodeImage(name, value));
}

/** Stores a clean template: empty groups as [], field keys unique, tokens well formed. */
export function normaliseTemplate(dto: CampaignTemplateDto): CampaignTemplate {
  const t: CampaignTemplate = {
    organizationName: dto.organizationName,
    description: dto.description,
    ...(dto.logoText !== undefined ? { logoText: dto.logoText } : {}),
    ...(dto.backgroundColor ? { backgroundColor: dto.backgroundColor } : {}),
    ...(dto.foregroundColor ? { foregroundColor: dto.foregroundColor } : {}),
    ...(dto.labelColor ? { labelColor: dto.labelColor } : {}),
    headerFields: [],
    primaryFields: [],
    secondaryFields: [],
    auxiliaryFields: [],
    backFields: [],
    ...(dto.barcode
      ? {
          barcode: {
            format: dto.barcode.format,
            message: dto.barcode.message,
            ...(dto.barcode.altText !== undefined ? { altText: dto.barcode.altText } : {}),
          },
        }
      : {}),
  };
  const seen = new Set<string>();
  for (const group of FIELD_GROUPS) {
    (dto[group] ?? []).forEach((f, i) => {
      if (seen.has(f.key)) {
        const field = `template.${group}[${i}].key`;
        throw new DomainError(
          'INVALID_TEMPLATE',
          `${field}: key "${f.key}" is used twice; keys must be unique across the pass`,
          [{ field, message: 'duplicate key' }],
        );
      }
      seen.add(f.key);
      t[group].push({
        key: f.key,
        value: f.value,
        ...(f.label !== undefined ? { label: f.label } : {}),
        ...(f.changeMessage !== undefined ? { changeMessage: f.changeMessage } : {}),
      });
    });
  }
  const tokenError = findTemplateTokenError(t);
  if (tokenError) {
    const [path] = tokenError.split(':', 1);
    throw new DomainError('INVALID_TEMPLATE', `template.${tokenError}`, [
      { field: `template.${path}`, message: tokenError },
    ]);
  }
  return t;
}
