import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface PushTarget {
  pushToken: string;
  passTypeIdentifier: string;
}

/** The push side's queries: who to push, and what happened. */
@Injectable()
export class PushRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async passForPush(passId: string) {
    const rows = await this.db.query<
      {
        id: string;
        tenant_id: string;
        campaign_id: string;
        change_seq: string;
        wallet_configuration_id: string;
      }[]
    >(
      `SELECT p.id, p.tenant_id, p.campaign_id, p.change_seq, c.wallet_configuration_id
         FROM passes p JOIN campaigns c ON c.id = p.campaign_id WHERE p.id = $1`,
      [passId],
    );
    return rows[0] ?? null;
  }

  async campaignConfig(campaignId: string): Promise<{ walletConfigurationId: string } | null> {
    const rows = await this.db.query<{ wallet_configuration_id: string }[]>(
      `SELECT wallet_configuration_id FROM campaigns WHERE id = $1`,
      [campaignId],
    );
    return rows[0] ? { walletConfigurationId: rows[0].wallet_configuration_id } : null;
  }

  /**
   * The push targets of one page of a campaign's passes (keyset by pass id), in (pass, token)
   * order, with the last pass id of the page. Tokens may repeat across passes; callers dedupe.
   */
  async campaignTargetsPage(
    campaignId: string,
    afterPassId: string | null,
    passes: number,
  ): Promise<{ targets: PushTarget[]; lastPassId: string | null }> {
    const page = await this.db.query<{ id: string }[]>(
      `SELECT id FROM passes WHERE campaign_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [campaignId, afterPassId, passes],
    );
    if (page.length === 0) return { targets: [], lastPassId: null };
    const targets = await this.db.query<PushTarget[]>(
      `SELECT p.pass_type_identifier AS "passTypeIdentifier", r.push_token AS "pushToken"
         FROM passes p JOIN registrations r ON r.pass_id = p.id
        WHERE p.id = ANY($1::uuid[]) AND p.pass_type_identifier IS NOT NULL
        ORDER BY p.id, r.push_token`,
      [page.map((p) => p.id)],
    );
    return { targets, lastPassId: page[page.length - 1]!.id };
  }

  /**
   * Starts an update unless a newer update of the campaign exists (in any state): that one pushes
   * every device after this change too, so this one coalesces into it.
   */
  async startCampaignUpdate(
    updateId: string,
    campaignId: string,
  ): Promise<'start' | 'coalesced' | 'already'> {
    return this.db.transaction(async (m) => {
      const rows = await m.query<{ status: string }[]>(
        `SELECT status FROM campaign_updates WHERE id = $1 FOR UPDATE`,
        [updateId],
      );
      const row = rows[0];
      if (!row) return 'coalesced';
      if (row.status !== 'PENDING') return 'already';
      // Compared in SQL: timestamps have microseconds, JavaScript dates only milliseconds.
      const newer = await m.query<{ id: string }[]>(
        `SELECT n.id FROM campaign_updates n, campaign_updates me
          WHERE me.id = $2 AND n.campaign_id = $1 AND n.id <> me.id AND n.created_at > me.created_at
          LIMIT 1`,
        [campaignId, updateId],
      );
      if (newer.length > 0) {
        await m.query(
          `UPDATE campaign_updates SET status = 'COALESCED', total = 0, finished_at = now() WHERE id = $1`,
          [updateId],
        );
        return 'coalesced';
      }
      await m.query(`UPDATE campaign_updates SET status = 'RUNNING', started_at = now() WHERE id = $1`, [
        updateId,
      ]);
      return 'start';
    });
  }

  async setUpdateTotal(updateId: string, total: number): Promise<void> {
    await this.db.query(
      `UPDATE campaign_updates SET total = $2,
         status = CASE WHEN sent + failed >= $2 THEN 'DONE' ELSE status END,
         finished_at = CASE WHEN sent + failed >= $2 THEN now() ELSE finished_at END
       WHERE id = $1`,
      [updateId, total],
    );
  }

  async getUpdateStatus(updateId: string): Promise<{ status: string; total: number | null } | null> {
    const rows = await this.db.query<{ status: string; total: number | null }[]>(
      `SELECT status, total FROM campaign_updates WHERE id = $1`,
      [updateId],
    );
    return rows[0] ?? null;
  }

  async recordOutcomes(
    tenantId: string,
    campaignId: string,
    updateId: string | null,
    counts: { sent: number; failed: number; unregistered: number },
    passId?: string,
  ): Promise<void> {
    if (passId) {
      // The pass page's "last push" (also when there was no device to push to).
      await this.db.query(
        `INSERT INTO pass_push_results (pass_id, tenant_id, sent, failed, unregistered) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (pass_id) DO UPDATE SET pushed_at = now(), sent = EXCLUDED.sent, failed = EXCLUDED.failed,
           unregistered = EXCLUDED.unregistered`,
        [passId, tenantId, counts.sent, counts.failed, counts.unregistered],
      );
    }
    if (counts.sent + counts.failed + counts.unregistered === 0) return;
    // Totals and the UTC day's counters (failed includes tokens APNs reported gone) in one statement.
    await this.db.query(
      `WITH daily AS (
         INSERT INTO push_daily_counters (campaign_id, tenant_id, day, sent, failed)
         VALUES ($1, $2, (now() AT TIME ZONE 'UTC')::date, $3, $4::bigint + $5::bigint)
         ON CONFLICT (campaign_id, day) DO UPDATE SET sent = push_daily_counters.sent + EXCLUDED.sent,
           failed = push_daily_counters.failed + EXCLUDED.failed)
       INSERT INTO push_counters (campaign_id, tenant_id, sent, failed, unregistered) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (campaign_id) DO UPDATE SET sent = push_counters.sent + EXCLUDED.sent,
         failed = push_counters.failed + EXCLUDED.failed, unregistered = push_counters.unregistered + EXCLUDED.unregistered,
         updated_at = now()`,
      [campaignId, tenantId, counts.sent, counts.failed, counts.unregistered],
    );
    if (updateId) {
      await this.db.query(
        `UPDATE campaign_updates SET sent = sent + $2, failed = failed + $3,
           status = CASE WHEN total IS NOT NULL AND sent + $2 + failed + $3 >= total THEN 'DONE' ELSE status END,
           finished_at = CASE WHEN total IS NOT NULL AND sent + $2 + failed + $3 >= total THEN now() ELSE finished_at END
         WHERE id = $1`,
        [updateId, counts.sent, counts.failed + counts.unregistered],
      );
    }
  }

  /**
   * A single-pass push job owes `tokens` pushes until its next attempt: the absolute count, so a
   * re-run of an attempt never counts twice. Counted as pending in the campaign's stats.
   */
  async setPending(jobId: string, tenantId: string, campaignId: string, tokens: number): Promise<void> {
    await this.db.query(
      `INSERT INTO push_pending (job_id, tenant_id, campaign_id, tokens) VALUES ($1, $2, $3, $4)
       ON CONFLICT (job_id) DO UPDATE SET tokens = EXCLUDED.tokens, updated_at = now()`,
      [jobId, tenantId, campaignId, tokens],
    );
  }

  /** The job owes nothing any more (its outcomes are recorded). */
  async clearPending(jobId: string): Promise<void> {
    await this.db.query(`DELETE FROM push_pending WHERE job_id = $1`, [jobId]);
  }

  /** The job ended without settling what it owed: those pushes count as failed. */
  async failPending(jobId: string): Promise<void> {
    await this.db.query(
      `WITH owed AS (DELETE FROM push_pending WHERE job_id = $1 RETURNING campaign_id, tenant_id, tokens)
       INSERT INTO push_counters (campaign_id, tenant_id, failed)
       SELECT campaign_id, tenant_id, tokens FROM owed WHERE tokens > 0
       ON CONFLICT (campaign_id) DO UPDATE SET failed = push_counters.failed + EXCLUDED.failed, updated_at = now()`,
      [jobId],
    );
  }
}
