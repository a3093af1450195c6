import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Honest push reporting.
 *
 * - wallet_configurations.apns_status gains UNREACHABLE (APNs could not be reached or refused to
 *   serve: connection errors, timeouts, 429/5xx with nothing delivered), and apns_status_since
 *   records when the status last changed.
 * - push_pending: pushes of single-pass changes that wait for a retry, one row per queue job with
 *   the number of tokens it still owes. Written with the absolute count on every attempt and deleted
 *   when the job ends, so a re-run never counts twice. Campaign-wide updates need no row: their
 *   pending pushes are total − sent − failed of campaign_updates.
 */
export class PushFailureReporting1732260000701 implements MigrationInterface {
  name = 'PushFailureReporting1732260000701';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE wallet_configurations DROP CONSTRAINT wallet_configurations_apns_status_check`,
    );
    await q.query(
      `ALTER TABLE wallet_configurations ADD CONSTRAINT wallet_configurations_apns_status_check
         CHECK (apns_status IN ('OK', 'UNHEALTHY', 'UNREACHABLE'))`,
    );
    await q.query(`ALTER TABLE wallet_configurations ADD COLUMN apns_status_since timestamptz`);
    await q.query(`
      CREATE TABLE push_pending (
        job_id text PRIMARY KEY,
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        tokens integer NOT NULL CHECK (tokens >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX push_pending_campaign_idx ON push_pending (campaign_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE push_pending`);
    await q.query(`UPDATE wallet_configurations SET apns_status = 'OK' WHERE apns_status = 'UNREACHABLE'`);
    await q.query(`ALTER TABLE wallet_configurations DROP COLUMN apns_status_since`);
    await q.query(
      `ALTER TABLE wallet_configurations DROP CONSTRAINT wallet_configurations_apns_status_check`,
    );
    await q.query(
      `ALTER TABLE wallet_configurations ADD CONSTRAINT wallet_configurations_apns_status_check
         CHECK (apns_status IN ('OK', 'UNHEALTHY'))`,
    );
  }
}
