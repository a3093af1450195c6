import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bulk pass updates. An upload is staged row by row in `bulk_update_rows` while it streams in;
 * the worker then resolves the keys to passes once (`bulk_update_targets`: one row per pass with
 * the attributes of all its rows merged in line order) and applies the targets in batches,
 * remembering how far it got in `bulk_updates.applied_seq`, so a crashed worker resumes there.
 * Rows that cannot be applied end in `bulk_update_errors` (one per line). Staged rows and targets
 * are deleted when the update is done; the update and its errors stay.
 */
export class BulkUpdates1732260001100 implements MigrationInterface {
  name = 'BulkUpdates1732260001100';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bulk_updates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        format text NOT NULL CHECK (format IN ('csv', 'ndjson')),
        idempotency_key text,
        request_hash text,
        status text NOT NULL DEFAULT 'RECEIVING'
          CHECK (status IN ('RECEIVING', 'QUEUED', 'RUNNING', 'DONE', 'FAILED')),
        total integer NOT NULL DEFAULT 0,
        applied integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        targets integer,
        applied_seq integer NOT NULL DEFAULT 0,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        received_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(
      `CREATE UNIQUE INDEX bulk_updates_idempotency_key ON bulk_updates (tenant_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX bulk_updates_campaign_idx ON bulk_updates (campaign_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE bulk_update_rows (
        bulk_update_id uuid NOT NULL REFERENCES bulk_updates(id) ON DELETE CASCADE,
        line integer NOT NULL,
        tenant_id uuid NOT NULL,
        key_kind "char" NOT NULL CHECK (key_kind IN ('s', 'v', 'c')),
        key text NOT NULL,
        contact jsonb,
        voucher jsonb,
        PRIMARY KEY (bulk_update_id, line)
      )`);
    await q.query(`
      CREATE TABLE bulk_update_targets (
        bulk_update_id uuid NOT NULL REFERENCES bulk_updates(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        tenant_id uuid NOT NULL,
        pass_id uuid NOT NULL,
        contact jsonb NOT NULL,
        voucher jsonb NOT NULL,
        lines integer[] NOT NULL,
        counted integer NOT NULL,
        PRIMARY KEY (bulk_update_id, seq)
      )`);
    await q.query(`
      CREATE TABLE bulk_update_errors (
        bulk_update_id uuid NOT NULL REFERENCES bulk_updates(id) ON DELETE CASCADE,
        line integer NOT NULL,
        tenant_id uuid NOT NULL,
        code text NOT NULL,
        message text NOT NULL,
        PRIMARY KEY (bulk_update_id, line)
      )`);
    // Merges jsonb objects in the aggregate's order: later rows of the same pass win per attribute.
    await q.query(
      `CREATE AGGREGATE bulk_jsonb_merge(jsonb) (SFUNC = jsonb_concat, STYPE = jsonb, INITCOND = '{}')`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP AGGREGATE bulk_jsonb_merge(jsonb)`);
    await q.query(`DROP TABLE bulk_update_errors`);
    await q.query(`DROP TABLE bulk_update_targets`);
    await q.query(`DROP TABLE bulk_update_rows`);
    await q.query(`DROP TABLE bulk_updates`);
  }
}
