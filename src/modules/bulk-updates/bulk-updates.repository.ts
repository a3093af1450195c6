import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { PersonalisationValue } from '../../domain/pass-design/campaign-template';
import { BulkRow, BulkRowError } from './bulk-row';

export type BulkUpdateStatus = 'RECEIVING' | 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';

export interface BulkUpdateRow {
  id: string;
  tenant_id: string;
  campaign_id: string;
  format: 'csv' | 'ndjson';
  idempotency_key: string | null;
  request_hash: string | null;
  status: BulkUpdateStatus;
  total: number;
  applied: number;
  failed: number;
  targets: number | null;
  applied_seq: number;
  error: string | null;
  created_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
}

export interface BulkTarget {
  seq: number;
  pass_id: string;
  contact: Record<string, PersonalisationValue>;
  voucher: Record<string, PersonalisationValue>;
  lines: number[];
  counted: number;
}

/** An upload that has not sent a batch for this long is taken to be abandoned (its API died). */
const STALE_UPLOAD_SECONDS = 120;

/** The bulk-update tables; every query a tenant can reach takes the tenant id. */
@Injectable()
export class BulkUpdatesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /**
   * Starts receiving an upload. With an idempotency key that the tenant used before, nothing is
   * created and the earlier update comes back (`existing`) — unless that one is an upload that
   * stopped sending long ago, which is replaced.
   */
  async create(
    tenantId: string,
    campaignId: string,
    format: 'csv' | 'ndjson',
    idempotencyKey: string | null,
  ): Promise<{ created: string } | { existing: BulkUpdateRow; receiving: boolean }> {
    return this.db.transaction(async (m) => {
      if (idempotencyKey !== null) {
        await m.query(
          `DELETE FROM bulk_updates WHERE tenant_id = $1 AND idempotency_key = $2 AND status = 'RECEIVING'
             AND heartbeat_at < now() - make_interval(secs => $3)`,
          [tenantId, idempotencyKey, STALE_UPLOAD_SECONDS],
        );
      }
      const rows = await m.query<{ id: string }[]>(
        `INSERT INTO bulk_updates (tenant_id, campaign_id, format, idempotency_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id`,
        [tenantId, campaignId, format, idempotencyKey],
      );
      if (rows[0]) return { created: rows[0].id };
      const existing = await m.query<BulkUpdateRow[]>(
        `SELECT * FROM bulk_updates WHERE tenant_id = $1 AND idempotency_key = $2`,
        [tenantId, idempotencyKey],
      );
      if (!existing[0]) throw new Error('idempotency key conflict without a row');
      return { existing: existing[0], receiving: existing[0].status === 'RECEIVING' };
    });
  }

  /** Stages valid rows and row errors of an upload in one statement, and notes that it is alive. */
  async stage(id: string, tenantId: string, rows: BulkRow[], errors: BulkRowError[]): Promise<void> {
    await this.db.query(
      `WITH r AS (
         INSERT INTO bulk_update_rows (bulk_update_id, tenant_id, line, key_kind, key, contact, voucher)
         SELECT $1, $2, * FROM unnest($3::int[], $4::"char"[], $5::text[], $6::jsonb[], $7::jsonb[])),
       e AS (
         INSERT INTO bulk_update_errors (bulk_update_id, tenant_id, line, code, message)
         SELECT $1, $2, * FROM unnest($8::int[], $9::text[], $10::text[]))
       UPDATE bulk_updates SET heartbeat_at = now() WHERE id = $1`,
      [
        id,
        tenantId,
        rows.map((r) => r.line),
        rows.map((r) => r.keyKind),
        rows.map((r) => r.key),
        rows.map((r) => (r.contact ? JSON.stringify(r.contact) : null)),
        rows.map((r) => (r.voucher ? JSON.stringify(r.voucher) : null)),
        errors.map((e) => e.line),
        errors.map((e) => e.code),
        errors.map((e) => e.message),
      ],
    );
  }

  /** The upload is complete: it waits for the worker. */
  async markReceived(
    m: EntityManager,
    id: string,
    requestHash: string,
    total: number,
    failed: number,
  ): Promise<void> {
    await m.query(
      `UPDATE bulk_updates SET status = 'QUEUED', request_hash = $2, total = $3, failed = $4,
         received_at = now(), heartbeat_at = now()
       WHERE id = $1 AND status = 'RECEIVING'`,
      [id, requestHash, total, failed],
    );
  }

  async deleteUpload(id: string): Promise<void> {
    await this.db.query(`DELETE FROM bulk_updates WHERE id = $1 AND status = 'RECEIVING'`, [id]);
  }

  async find(tenantId: string, campaignId: string, id: string): Promise<BulkUpdateRow | null> {
    const rows = await this.db.query<BulkUpdateRow[]>(
      `SELECT * FROM bulk_updates WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3`,
      [tenantId, campaignId, id],
    );
    return rows[0] ?? null;
  }

  async errorsPage(
    tenantId: string,
    id: string,
    afterLine: number,
    limit: number,
  ): Promise<{ line: number; code: string; message: string }[]> {
    return this.db.query(
      `SELECT line, code, message FROM bulk_update_errors
        WHERE bulk_update_id = $1 AND tenant_id = $2 AND line > $3 ORDER BY line LIMIT $4`,
      [id, tenantId, afterLine, limit],
    );
  }

  // ---- the worker's side ----

  async findInternal(id: string): Promise<BulkUpdateRow | null> {
    const rows = await this.db.query<BulkUpdateRow[]>(`SELECT * FROM bulk_updates WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async lock(m: EntityManager, id: string): Promise<BulkUpdateRow | null> {
    const rows = await m.query<BulkUpdateRow[]>(`SELECT * FROM bulk_updates WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ?? null;
  }

  /**
   * Resolves every staged row to the passes it names (in one statement, so a crash leaves it
   * either done or not started): one target per pass, its rows' attributes merged in line
   * order, numbered in order of the pass's first line. Rows that name no pass become
   * PASS_NOT_FOUND errors. `counted` gives each line to the last target it names, so progress
   * counts a row once it is wholly applied. Returns the number of targets and of unmatched rows.
   */
  async resolve(
    m: EntityManager,
    id: string,
    tenantId: string,
    campaignId: string,
  ): Promise<{ targets: number; notFound: number }> {
    const rows = await m.query<{ targets: number; not_found: number }[]>(
      `WITH r AS (
         SELECT line, key_kind, key, COALESCE(contact, '{}'::jsonb) AS contact,
                COALESCE(voucher, '{}'::jsonb) AS voucher
           FROM bulk_update_rows WHERE bulk_update_id = $1),
       m AS (
         SELECT r.line, p.id AS pass_id, r.contact, r.voucher
           FROM r JOIN passes p ON p.serial_number = r.key AND p.campaign_id = $3
          WHERE r.key_kind = 's'
         UNION ALL
         SELECT r.line, p.id, r.contact, r.voucher
           FROM r JOIN passes p ON p.campaign_id = $3 AND p.identity = 'v:' || r.key
          WHERE r.key_kind = 'v'
         UNION ALL
         SELECT r.line, p.id, r.contact, r.voucher
           FROM r JOIN passes p ON p.campaign_id = $3 AND (p.data->'contact'->>'id') = r.key
          WHERE r.key_kind = 'c'),
       t AS (
         SELECT pass_id, min(line) AS first_line, array_agg(line ORDER BY line) AS lines,
                bulk_jsonb_merge(contact ORDER BY line) AS contact,
                bulk_jsonb_merge(voucher ORDER BY line) AS voucher
           FROM m GROUP BY pass_id),
       ts AS (SELECT t.*, row_number() OVER (ORDER BY first_line, pass_id)::int AS seq FROM t),
       last AS (SELECT m.line, max(ts.seq) AS seq FROM m JOIN ts USING (pass_id) GROUP BY m.line),
       cnt AS (SELECT seq, count(*)::int AS n FROM last GROUP BY seq),
       ins AS (
         INSERT INTO bulk_update_targets (bulk_update_id, seq, tenant_id, pass_id, contact, voucher, lines, counted)
         SELECT $1, ts.seq, $2, ts.pass_id, ts.contact, ts.voucher, ts.lines, COALESCE(cnt.n, 0)
           FROM ts LEFT JOIN cnt USING (seq)
         RETURNING 1),
       nf AS (
         INSERT INTO bulk_update_errors (bulk_update_id, tenant_id, line, code, message)
         SELECT $1, $2, r.line, 'PASS_NOT_FOUND',
                CASE r.key_kind WHEN 's' THEN 'no pass of this campaign has this serialNumber'
                                WHEN 'v' THEN 'no pass of this campaign has this voucher code'
                                ELSE 'no pass of this campaign has this contact id' END
           FROM r WHERE NOT EXISTS (SELECT 1 FROM last WHERE last.line = r.line)
         ON CONFLICT DO NOTHING
         RETURNING 1)
       SELECT (SELECT count(*)::int FROM ins) AS targets, (SELECT count(*)::int FROM nf) AS not_found`,
      [id, tenantId, campaignId],
    );
    const r = rows[0]!;
    await m.query(
      `UPDATE bulk_updates SET targets = $2, failed = failed + $3, heartbeat_at = now() WHERE id = $1`,
      [id, r.targets, r.not_found],
    );
    return { targets: r.targets, notFound: r.not_found };
  }

  async start(id: string): Promise<void> {
    await this.db.query(
      `UPDATE bulk_updates SET status = 'RUNNING', started_at = COALESCE(started_at, now()), heartbeat_at = now()
        WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`,
      [id],
    );
  }

  async targetsAfter(m: EntityManager, id: string, afterSeq: number, limit: number): Promise<BulkTarget[]> {
    return m.query<BulkTarget[]>(
      `SELECT seq, pass_id, contact, voucher, lines, counted FROM bulk_update_targets
        WHERE bulk_update_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [id, afterSeq, limit],
    );
  }

  async insertErrors(m: EntityManager, id: string, tenantId: string, errors: BulkRowError[]): Promise<void> {
    if (errors.length === 0) return;
    await m.query(
      `INSERT INTO bulk_update_errors (bulk_update_id, tenant_id, line, code, message)
       SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
      [id, tenantId, errors.map((e) => e.line), errors.map((e) => e.code), errors.map((e) => e.message)],
    );
  }

  async advance(
    m: EntityManager,
    id: string,
    appliedSeq: number,
    applied: number,
    failed: number,
  ): Promise<void> {
    await m.query(
      `UPDATE bulk_updates SET applied_seq = $2, applied = applied + $3, failed = failed + $4, heartbeat_at = now()
        WHERE id = $1`,
      [id, appliedSeq, applied, failed],
    );
  }

  /**
   * Every target is applied: the counts become exact (a row is failed when it has an error,
   * applied otherwise) and the staging rows go.
   */
  async finish(id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE bulk_updates b SET status = 'DONE', finished_at = now(), heartbeat_at = now(),
           failed = e.n, applied = b.total - e.n
           FROM (SELECT count(*)::int AS n FROM bulk_update_errors WHERE bulk_update_id = $1) e
          WHERE b.id = $1 AND b.status = 'RUNNING'`,
        [id],
      );
      await m.query(`DELETE FROM bulk_update_rows WHERE bulk_update_id = $1`, [id]);
      await m.query(`DELETE FROM bulk_update_targets WHERE bulk_update_id = $1`, [id]);
    });
  }

  async fail(id: string, message: string): Promise<void> {
    await this.db.query(
      `UPDATE bulk_updates SET status = 'FAILED', error = $2, finished_at = now()
        WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`,
      [id, message],
    );
  }
}
