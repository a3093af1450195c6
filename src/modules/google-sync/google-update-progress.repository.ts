import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Pass } from '../passes/pass.entity';
import { toPass } from '../passes/passes.repository';

export interface GoogleRunState {
  cursor: string | null;
  doneAhead: string[];
  createdAt: Date;
}

/** The Google side of a campaign update: its progress columns and the passes it walks. */
@Injectable()
export class GoogleUpdateProgressRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Starts (or resumes) the Google run of an update. 'coalesced' when a newer content version of
   * the campaign has its own update (which patches every object again), 'finished' when the run
   * is over already, null when the update does not exist.
   */
  async start(updateId: string): Promise<GoogleRunState | 'coalesced' | 'finished' | null> {
    return this.db.transaction(async (m) => {
      const rows = await m.query<
        {
          campaign_id: string;
          content_version: number;
          google_status: string | null;
          google_total: number | null;
          google_cursor: string | null;
          google_done_ahead: string[];
          created_at: Date;
        }[]
      >(`SELECT * FROM campaign_updates WHERE id = $1 FOR UPDATE`, [updateId]);
      const u = rows[0];
      if (!u) return null;
      if (u.google_status === 'DONE' || u.google_status === 'COALESCED') return 'finished';
      const newer = await m.query<unknown[]>(
        `SELECT 1 FROM campaign_updates WHERE campaign_id = $1 AND content_version > $2 LIMIT 1`,
        [u.campaign_id, u.content_version],
      );
      if (newer.length > 0) {
        await m.query(
          `UPDATE campaign_updates SET google_status = 'COALESCED', google_finished_at = now() WHERE id = $1`,
          [updateId],
        );
        return 'coalesced';
      }
      if (u.google_total === null) {
        const count = await m.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM passes
            WHERE campaign_id = $1 AND google_object_synced_at IS NOT NULL AND created_at < $2`,
          [u.campaign_id, u.created_at],
        );
        await m.query(
          `UPDATE campaign_updates SET google_total = $2, google_status = 'RUNNING' WHERE id = $1`,
          [updateId, count[0]?.n ?? 0],
        );
      } else if (u.google_status !== 'RUNNING') {
        await m.query(`UPDATE campaign_updates SET google_status = 'RUNNING' WHERE id = $1`, [updateId]);
      }
      return { cursor: u.google_cursor, doneAhead: u.google_done_ahead, createdAt: u.created_at };
    });
  }

  /** True when a newer content version of the campaign has its own update. */
  async superseded(updateId: string): Promise<boolean> {
    const rows = await this.db.query<unknown[]>(
      `SELECT 1 FROM campaign_updates me JOIN campaign_updates n
           ON n.campaign_id = me.campaign_id AND n.content_version > me.content_version
        WHERE me.id = $1 LIMIT 1`,
      [updateId],
    );
    return rows.length > 0;
  }

  /** The next passes with a saved Google object, by id after `cursor`, issued before the update. */
  async page(campaignId: string, cursor: string | null, createdBefore: Date, limit: number): Promise<Pass[]> {
    const rows = await this.db.query<Parameters<typeof toPass>[0][]>(
      `SELECT * FROM passes
        WHERE campaign_id = $1 AND ($2::uuid IS NULL OR id > $2) AND google_object_synced_at IS NOT NULL
          AND google_object_id IS NOT NULL AND created_at < $3
        ORDER BY id LIMIT $4`,
      [campaignId, cursor, createdBefore, limit],
    );
    return rows.map(toPass);
  }

  /** Persists where the run is and adds what it did since the last call, in one statement. */
  async advance(
    updateId: string,
    cursor: string | null,
    doneAhead: string[],
    patched: number,
    failed: number,
  ): Promise<void> {
    await this.db.query(
      `UPDATE campaign_updates SET google_cursor = $2, google_done_ahead = $3::uuid[],
         google_patched = google_patched + $4, google_failed = google_failed + $5
       WHERE id = $1`,
      [updateId, cursor, doneAhead, patched, failed],
    );
  }

  async finish(updateId: string, status: 'DONE' | 'COALESCED'): Promise<void> {
    await this.db.query(
      `UPDATE campaign_updates SET google_status = $2, google_finished_at = now(), google_done_ahead = '{}'
        WHERE id = $1 AND google_status IS DISTINCT FROM 'DONE'`,
      [updateId, status],
    );
  }

  /** Nothing Google can do (no credentials any more): every remaining object counts as failed. */
  async failRest(updateId: string): Promise<void> {
    await this.db.query(
      `UPDATE campaign_updates SET google_failed = GREATEST(COALESCE(google_total, 0) - google_patched, 0),
         google_status = 'DONE', google_finished_at = now() WHERE id = $1`,
      [updateId],
    );
  }
}
