import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ImageName } from '../../domain/pass-design/campaign-template';
import { Campaign, CampaignImage, GoogleSyncStatus } from './campaign.entity';

export interface NewImage {
  name: ImageName;
  png: Buffer;
  sha1: string;
  width: number;
  height: number;
}

/** Every read of tenant data takes the tenant id; the internal (worker) reads say so in their name. */
@Injectable()
export class CampaignsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insert(m: EntityManager, campaign: Partial<Campaign>): Promise<void> {
    await m.insert(Campaign, campaign);
  }

  async upsertImages(
    m: EntityManager,
    tenantId: string,
    campaignId: string,
    images: NewImage[],
  ): Promise<void> {
    for (const img of images) {
      await m.query(
        `INSERT INTO campaign_images (campaign_id, tenant_id, name, png, sha1, width, height, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now())
         ON CONFLICT (campaign_id, name) DO UPDATE
           SET png = EXCLUDED.png, sha1 = EXCLUDED.sha1, width = EXCLUDED.width, height = EXCLUDED.height, updated_at = now()`,
        [campaignId, tenantId, img.name, img.png, img.sha1, img.width, img.height],
      );
    }
  }

  async deleteImages(
    m: EntityManager,
    tenantId: string,
    campaignId: string,
    names: ImageName[],
  ): Promise<void> {
    if (names.length === 0) return;
    await m.query(
      `DELETE FROM campaign_images WHERE campaign_id = $1 AND tenant_id = $2 AND name = ANY($3::text[])`,
      [campaignId, tenantId, names],
    );
  }

  async find(tenantId: string, id: string, m: EntityManager = this.db.manager): Promise<Campaign | null> {
    const c = await m.findOne(Campaign, { where: { id, tenantId } });
    if (c) c.imageNames = await this.imageNames(id, m);
    return c;
  }

  async findForUpdate(m: EntityManager, tenantId: string, id: string): Promise<Campaign | null> {
    const c = await m.findOne(Campaign, { where: { id, tenantId }, lock: { mode: 'pessimistic_write' } });
    if (c) c.imageNames = await this.imageNames(id, m);
    return c;
  }

  /** For workers and public routes that carry the tenant elsewhere (job payloads, signed links). */
  async findByIdInternal(id: string): Promise<Campaign | null> {
    const c = await this.db.manager.findOne(Campaign, { where: { id } });
    if (c) c.imageNames = await this.imageNames(id);
    return c;
  }

  async list(tenantId: string, limit: number, offset: number): Promise<[Campaign[], number]> {
    const [rows, total] = await this.db.manager.findAndCount(Campaign, {
      where: { tenantId },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    if (rows.length > 0) {
      const names = await this.db.query<{ campaign_id: string; names: ImageName[] }[]>(
        `SELECT campaign_id, array_agg(name ORDER BY name) AS names FROM campaign_images WHERE campaign_id = ANY($1::uuid[]) GROUP BY campaign_id`,
        [rows.map((r) => r.id)],
      );
      const byId = new Map(names.map((n) => [n.campaign_id, n.names]));
      for (const r of rows) r.imageNames = byId.get(r.id) ?? [];
    }
    return [rows, total];
  }

  async imageNames(campaignId: string, m: EntityManager = this.db.manager): Promise<ImageName[]> {
    const rows = await m.query<
      {
        name: ImageName;
      }[]
    >(`SELECT name FROM campaign_images WHERE campaign_id = $1 ORDER BY name`, [campaignId]);
    return rows.map((r) => r.name);
  }

  async images(campaignId: string): Promise<CampaignImage[]> {
    return this.db.manager.find(CampaignImage, { where: { campaignId } });
  }

  async image(
    campaignId: string,
    name: ImageName,
  ): Promise<Pick<CampaignImage, 'png' | 'sha1' | 'updatedAt'> | null> {
    return this.db.manager.findOne(CampaignImage, {
      where: { campaignId, name },
      select: ['png', 'sha1', 'updatedAt'],
    });
  }

  async setGoogleSync(
    id: string,
    status: GoogleSyncStatus,
    error: string | null,
    opts: { countAttempt?: boolean; onlyIfContentVersion?: number } = {},
  ): Promise<void> {
    await this.db.query(
      `UPDATE campaigns SET google_sync_status = $2, google_sync_error = $3,
         google_sync_attempts = google_sync_attempts + $4
       WHERE id = $1 AND ($5::int IS NULL OR content_version = $5)`,
      [id, status, error, opts.countAttempt ? 1 : 0, opts.onlyIfContentVersion ?? null],
    );
  }

  issuingContext(campaignId: string): Promise<CampaignIssuingContext | null> {
    return loadIssuingContext(this.db, campaignId);
  }
}

/** What issuing or rebuilding a pass needs from its campaign and configuration, in one query. */
export interface CampaignIssuingContext {
  campaignId: string;
  tenantId: string;
  walletConfigurationId: string;
  walletConfigurationVersion: number;
  passStyle: Campaign['passStyle'];
  template: Campaign['template'];
  status: Campaign['status'];
  linkTtlSeconds: number | null;
  googleClassId: string | null;
  googleSyncStatus: Campaign['googleSyncStatus'];
  contentVersion: number;
  contentUpdatedAt: Date;
  changeSeq: string;
  applePassTypeIdentifier: string | null;
  googleIssuerId: string | null;
  imageNames: ImageName[];
}

export async function loadIssuingContext(
  db: DataSource,
  campaignId: string,
): Promise<CampaignIssuingContext | null> {
  const rows = await db.query<Record<string, unknown>[]>(
    `SELECT c.id, c.tenant_id, c.wallet_configuration_id, w.version AS cfg_version, c.pass_style, c.template, c.status,
            c.link_ttl_seconds, c.google_class_id, c.google_sync_status, c.content_version, c.content_updated_at,
            c.change_seq, w.apple_pass_type_identifier, w.google_issuer_id,
            COALESCE((SELECT array_agg(i.name ORDER BY i.name) FROM campaign_images i WHERE i.campaign_id = c.id), '{}') AS image_names
       FROM campaigns c JOIN wallet_configurations w ON w.id = c.wallet_configuration_id
      WHERE c.id = $1`,
    [campaignId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    campaignId: r.id as string,
    tenantId: r.tenant_id as string,
    walletConfigurationId: r.wallet_configuration_id as string,
    walletConfigurationVersion: r.cfg_version as number,
    passStyle: r.pass_style as Campaign['passStyle'],
    template: r.template as Campaign['template'],
    status: r.status as Campaign['status'],
    linkTtlSeconds: r.link_ttl_seconds as number | null,
    googleClassId: r.google_class_id as string | null,
    googleSyncStatus: r.google_sync_status as Campaign['googleSyncStatus'],
    contentVersion: r.content_version as number,
    contentUpdatedAt: r.content_updated_at as Date,
    changeSeq: r.change_seq as string,
    applePassTypeIdentifier: r.apple_pass_type_identifier as string | null,
    googleIssuerId: r.google_issuer_id as string | null,
    imageNames: r.image_names as ImageName[],
  };
}
