import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { PersonalisationData } from '../../domain/pass-design/campaign-template';
import { PASS_CHANGED_SET } from '../passes/change-tracking';
import { Pass } from '../passes/pass.entity';
import { toPass } from '../passes/passes.repository';

export interface CampaignUpdateRow {
  id: string;
  tenant_id: string;
  campaign_id: string;
  content_version: number;
  status: 'PENDING' | 'RUNNING' | 'DONE' | 'COALESCED';
  total: number | null;
  sent: number;
  failed: number;
  created_at: Date;
  finished_at: Date | null;
  google_status: 'PENDING' | 'RUNNING' | 'DONE' | 'COALESCED' | null;
  google_total: number | null;
  google_patched: number;
  google_failed: number;
  google_finished_at: Date | null;
}

/** Queries for the pass management API; every one takes the tenant id. */
export type PassDetailRow = Parameters<typeof toPass>[0] & {
  devices: number;
  pass_push_at: Date | null;
  pass_push_sent: number | null;
  pass_push_failed: number | null;
  campaign_push_at: Date | null;
  campaign_push_sent: number | null;
  campaign_push_failed: number | null;
  campaign_push_status: string | null;
};

@Injectable()
export class PassUpdatesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async lockPass(
    m: EntityManager,
    tenantId: string,
    campaignId: string,
    serial: string,
  ): Promise<Pass | null> {
    const rows = await m.query<Parameters<typeof toPass>[0][]>(
      `SELECT * FROM passes WHERE tenant_id = $1 AND campaign_id = $2 AND serial_number = $3 FOR UPDATE`,
      [tenantId, campaignId, serial],
    );
    return rows[0] ? toPass(rows[0]) : null;
  }

  async setData(m: EntityManager, passId: string, data: PersonalisationData): Promise<Pass> {
    const [rows] = await m.query<[Parameters<typeof toPass>[0][], number]>(
      `UPDATE passes SET data = $2, ${PASS_CHANGED_SET} WHERE id = $1 RETURNING *`,
      [passId, JSON.stringify(data)],
    );
    return toPass(rows[0]!);
  }

  async void(m: EntityManager, passId: string): Promise<Pass> {
    const [rows] = await m.query<[Parameters<typeof toPass>[0][], number]>(
      `UPDATE passes SET voided = true, ${PASS_CHANGED_SET} WHERE id = $1 RETURNING *`,
      [passId],
    );
    return toPass(rows[0]!);
  }

  /**
   * A page of the campaign's passes; `search` keeps those whose serial number, voucher code or
   * contact id equals it or starts with it (pattern-ops indexes per campaign).
   */
  async listPasses(
    tenantId: string,
    campaignId: string,
    limit: number,
    offset: number,
    search?: string,
  ): Promise<{ rows: (Parameters<typeof toPass>[0] & { devices: number })[]; total: number }> {
    const params: unknown[] = [tenantId, campaignId];
    let filter = '';
    if (search) {
      const prefix = search.replace(/[\\%_]/g, '\\$&') + '%';
      params.push(prefix, `v:${prefix}`);
      filter = ` AND (p.serial_number LIKE $3 OR p.identity LIKE $4 OR (p.data->'contact'->>'id') LIKE $3)`;
    }
    const n = params.length;
    const rows = await this.db.query<(Parameters<typeof toPass>[0] & { devices: number })[]>(
      `SELECT p.*, (SELECT count(*)::int FROM registrations r WHERE r.pass_id = p.id) AS devices
         FROM passes p WHERE p.tenant_id = $1 AND p.campaign_id = $2${filter}
        ORDER BY p.created_at, p.id LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...params, limit, offset],
    );
    const count = await this.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM passes p WHERE p.tenant_id = $1 AND p.campaign_id = $2${filter}`,
      params,
    );
    return { rows, total: count[0]?.n ?? 0 };
  }

  /** One pass with its device count and the last push that concerned it (its own, or its campaign's). */
  async passDetail(tenantId: string, campaignId: string, serial: string): Promise<PassDetailRow | null> {
    const rows = await this.db.query<PassDetailRow[]>(
      `SELECT p.*, (SELECT count(*)::int FROM registrations r WHERE r.pass_id = p.id) AS devices,
              pr.pushed_at AS pass_push_at, pr.sent AS pass_push_sent, pr.failed + pr.unregistered AS pass_push_failed,
              cu.created_at AS campaign_push_at, cu.sent AS campaign_push_sent, cu.failed AS campaign_push_failed,
              cu.status AS campaign_push_status
         FROM passes p
         LEFT JOIN pass_push_results pr ON pr.pass_id = p.id
         LEFT JOIN LATERAL (
           SELECT created_at, sent, failed, status FROM campaign_updates
            WHERE campaign_id = p.campaign_id AND created_at >= p.created_at AND status <> 'COALESCED'
            ORDER BY created_at DESC LIMIT 1) cu ON true
        WHERE p.tenant_id = $1 AND p.campaign_id = $2 AND p.serial_number = $3`,
      [tenantId, campaignId, serial],
    );
    return rows[0] ?? null;
  }

  async passCounts(tenantId: string, campaignId: string) {
    const rows = await this.db.query<
      { total: number; apple: number; google: number; voided: number; g_synced: number; g_failed: number }[]
    >(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE apple_issued_at IS NOT NULL)::int AS apple,
              count(*) FILTER (WHERE google_object_synced_at IS NOT NULL)::int AS google,
              count(*) FILTER (WHERE voided)::int AS voided,
              count(*) FILTER (WHERE google_object_synced_at IS NOT NULL AND google_sync_error IS NULL)::int AS g_synced,
              count(*) FILTER (WHERE google_sync_error IS NOT NULL)::int AS g_failed
         FROM passes WHERE tenant_id = $1 AND campaign_id = $2`,
      [tenantId, campaignId],
    );
    return rows[0]!;
  }

  async pushCounts(tenantId: string, campaignId: string) {
    const counters = await this.db.query<{ sent: string; failed: string; unregistered: string }[]>(
      `SELECT sent, failed, unregistered FROM push_counters WHERE tenant_id = $1 AND campaign_id = $2`,
      [tenantId, campaignId],
    );
    const pendingUpdates = await this.db.query<{ n: number }[]>(
      `SELECT COALESCE(sum(GREATEST(COALESCE(total, 0) - sent - failed, 0)), 0)::int AS n
         FROM campaign_updates WHERE tenant_id = $1 AND campaign_id = $2 AND status IN ('PENDING', 'RUNNING')`,
      [tenantId, campaignId],
    );
    const pendingPasses = await this.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM outbox o JOIN passes p ON p.id = (o.payload->>'passId')::uuid
        WHERE o.tenant_id = $1 AND o.topic = 'push.pass' AND o.relayed_at IS NULL AND p.campaign_id = $2`,
      [tenantId, campaignId],
    );
    // Single-pass pushes waiting for a retry (APNs unreachable or refusing).
    const retrying = await this.db.query<{ n: number }[]>(
      `SELECT COALESCE(sum(tokens), 0)::int AS n FROM push_pending WHERE tenant_id = $1 AND campaign_id = $2`,
      [tenantId, campaignId],
    );
    const c = counters[0];
    return {
      sent: Number(c?.sent ?? 0),
      failed: Number(c?.failed ?? 0),
      unregistered: Number(c?.unregistered ?? 0),
      pending: (pendingUpdates[0]?.n ?? 0) + (pendingPasses[0]?.n ?? 0) + (retrying[0]?.n ?? 0),
    };
  }

  async insertCampaignUpdate(
    m: EntityManager,
    tenantId: string,
    campaignId: string,
    contentVersion: number,
    google: boolean,
  ): Promise<string> {
    const rows = await m.query<{ id: string }[]>(
      `INSERT INTO campaign_updates (tenant_id, campaign_id, content_version, google_status)
       VALUES ($1, $2, $3, CASE WHEN $4::boolean THEN 'PENDING' END) RETURNING id`,
      [tenantId, campaignId, contentVersion, google],
    );
    return rows[0]!.id;
  }

  async findUpdate(
    tenantId: string,
    campaignId: string,
    updateId: string,
  ): Promise<CampaignUpdateRow | null> {
    const rows = await this.db.query<CampaignUpdateRow[]>(
      `SELECT * FROM campaign_updates WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3`,
      [tenantId, campaignId, updateId],
    );
    return rows[0] ?? null;
  }

  async listUpdates(
    tenantId: string,
    campaignId: string,
    limit: number,
    offset: number,
  ): Promise<CampaignUpdateRow[]> {
    return this.db.query<CampaignUpdateRow[]>(
      `SELECT * FROM campaign_updates WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY created_at DESC LIMIT $3 OFFSET $4`,
      [tenantId, campaignId, limit, offset],
    );
  }
}
