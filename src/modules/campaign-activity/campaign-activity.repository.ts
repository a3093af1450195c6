import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface DayCounts {
  appleIssued: number;
  googleIssued: number;
  registered: number;
  removed: number;
  sent: number;
  failed: number;
}

/**
 * Read-only reporting queries for the console's campaign page, over tables other modules own
 * (passes, registrations, registration_removals, push_daily_counters, device_logs). Writes none.
 */
@Injectable()
export class CampaignActivityRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Counts per UTC day (YYYY-MM-DD) from `since` (a UTC day) on. */
  async daily(tenantId: string, campaignId: string, since: string): Promise<Map<string, DayCounts>> {
    const rows = await this.db.query<{ day: string; kind: keyof DayCounts; n: string }[]>(
      `WITH bounds AS (SELECT $3::date AS day, ($3::date)::timestamp AT TIME ZONE 'UTC' AS ts),
            campaign_passes AS (SELECT id, apple_issued_at, google_object_synced_at FROM passes
                                 WHERE tenant_id = $1 AND campaign_id = $2)
       SELECT to_char(apple_issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, 'appleIssued' AS kind, count(*) AS n
         FROM campaign_passes, bounds WHERE apple_issued_at >= bounds.ts GROUP BY 1
       UNION ALL
       SELECT to_char(google_object_synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'googleIssued', count(*)
         FROM campaign_passes, bounds WHERE google_object_synced_at >= bounds.ts GROUP BY 1
       UNION ALL
       SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'registered', count(*) FROM (
           SELECT r.created_at AS at FROM registrations r JOIN campaign_passes p ON p.id = r.pass_id
           UNION ALL
           SELECT registered_at FROM registration_removals WHERE tenant_id = $1 AND campaign_id = $2
         ) x, bounds WHERE at >= bounds.ts GROUP BY 1
       UNION ALL
       SELECT to_char(removed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'removed', count(*)
         FROM registration_removals, bounds
        WHERE tenant_id = $1 AND campaign_id = $2 AND removed_at >= bounds.ts GROUP BY 1
       UNION ALL
       SELECT to_char(c.day, 'YYYY-MM-DD'), 'sent', sum(sent) FROM push_daily_counters c, bounds
        WHERE c.tenant_id = $1 AND c.campaign_id = $2 AND c.day >= bounds.day GROUP BY 1
       UNION ALL
       SELECT to_char(c.day, 'YYYY-MM-DD'), 'failed', sum(failed) FROM push_daily_counters c, bounds
        WHERE c.tenant_id = $1 AND c.campaign_id = $2 AND c.day >= bounds.day GROUP BY 1`,
      [tenantId, campaignId, since],
    );
    const out = new Map<string, DayCounts>();
    for (const r of rows) {
      let day = out.get(r.day);
      if (!day) {
        day = { appleIssued: 0, googleIssued: 0, registered: 0, removed: 0, sent: 0, failed: 0 };
        out.set(r.day, day);
      }
      day[r.kind] += Number(r.n);
    }
    return out;
  }

  async deviceLogs(
    tenantId: string,
    campaignId: string,
    limit: number,
  ): Promise<{ serial_number: string; message: string; created_at: Date }[]> {
    return this.db.query(
      `SELECT l.serial_number, l.message, l.created_at
         FROM device_logs l JOIN passes p ON p.serial_number = l.serial_number AND p.tenant_id = l.tenant_id
        WHERE l.tenant_id = $1 AND p.campaign_id = $2
        ORDER BY l.id DESC LIMIT $3`,
      [tenantId, campaignId, limit],
    );
  }

  async impact(tenantId: string, campaignId: string): Promise<{ passes: number; googlePasses: number }> {
    const rows = await this.db.query<{ passes: number; google: number }[]>(
      `SELECT count(*)::int AS passes, count(google_object_id)::int AS google
         FROM passes WHERE tenant_id = $1 AND campaign_id = $2`,
      [tenantId, campaignId],
    );
    return { passes: rows[0]?.passes ?? 0, googlePasses: rows[0]?.google ?? 0 };
  }
}
