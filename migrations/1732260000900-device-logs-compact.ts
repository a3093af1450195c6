import { MigrationInterface, QueryRunner } from 'typeorm';

const NO_TENANT = `'00000000-0000-0000-0000-000000000000'::uuid`;

/**
 * Device log messages are stored once per bucket (tenant, or the bucket of messages naming no
 * known pass) and message text, with how often and when last they were seen: a device repeating
 * itself, or a client flooding the same text, updates one row. Existing duplicates are merged.
 * Buckets are trimmed by `last_seen_at`.
 */
export class DeviceLogsCompact1732260000900 implements MigrationInterface {
  name = 'DeviceLogsCompact1732260000900';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE device_logs
        ADD COLUMN occurrences bigint NOT NULL DEFAULT 1,
        ADD COLUMN last_seen_at timestamptz`);
    await q.query(`UPDATE device_logs SET last_seen_at = created_at`);
    await q.query(`
      WITH g AS (
        SELECT min(id) AS keep, count(*) AS n, max(created_at) AS last
          FROM device_logs GROUP BY tenant_id, md5(message) HAVING count(*) > 1)
      UPDATE device_logs d SET occurrences = g.n, last_seen_at = g.last FROM g WHERE d.id = g.keep`);
    await q.query(`
      DELETE FROM device_logs d
       WHERE EXISTS (SELECT 1 FROM device_logs k
                      WHERE k.tenant_id IS NOT DISTINCT FROM d.tenant_id
                        AND md5(k.message) = md5(d.message) AND k.id < d.id)`);
    await q.query(`
      ALTER TABLE device_logs
        ALTER COLUMN last_seen_at SET NOT NULL,
        ALTER COLUMN last_seen_at SET DEFAULT now()`);
    await q.query(
      `CREATE UNIQUE INDEX device_logs_bucket_message_unique ON device_logs ((COALESCE(tenant_id, ${NO_TENANT})), md5(message))`,
    );
    await q.query(
      `CREATE INDEX device_logs_bucket_seen_idx ON device_logs ((COALESCE(tenant_id, ${NO_TENANT})), last_seen_at DESC, id DESC)`,
    );
    await q.query(`DROP INDEX device_logs_tenant_idx`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX device_logs_tenant_idx ON device_logs (tenant_id, id)`);
    await q.query(`DROP INDEX device_logs_bucket_seen_idx`);
    await q.query(`DROP INDEX device_logs_bucket_message_unique`);
    await q.query(`ALTER TABLE device_logs DROP COLUMN last_seen_at, DROP COLUMN occurrences`);
  }
}
