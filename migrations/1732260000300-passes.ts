import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issued passes. One pass per (campaign, identity) where identity is the voucher code, or the
 * contact id when there is no voucher code; the unique index makes concurrent taps of a link
 * create exactly one pass.
 *
 * Change tracking for Apple's web service: every content change of a pass or of its campaign takes
 * the next value of `wallet_change_seq` (under a transaction-scoped advisory lock, so sequence
 * order is commit order) and moves `updated_at` / `content_updated_at` to a later whole second
 * (HTTP dates have one-second precision).
 */
export class Passes1732260000300 implements MigrationInterface {
  name = 'Passes1732260000300';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE wallet_change_seq`);
    await q.query(
      `ALTER TABLE campaigns ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('wallet_change_seq')`,
    );
    await q.query(`
      CREATE TABLE passes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        identity text NOT NULL,
        serial_number text NOT NULL,
        authentication_token text NOT NULL,
        pass_type_identifier text,
        data jsonb NOT NULL,
        apple_issued_at timestamptz,
        google_object_id text,
        google_object_synced_at timestamptz,
        google_sync_error text,
        voided boolean NOT NULL DEFAULT false,
        change_seq bigint NOT NULL DEFAULT nextval('wallet_change_seq'),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT passes_identity_unique UNIQUE (campaign_id, identity),
        CONSTRAINT passes_serial_unique UNIQUE (serial_number)
      )`);
    await q.query(`CREATE INDEX passes_tenant_campaign_idx ON passes (tenant_id, campaign_id, created_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE passes`);
    await q.query(`ALTER TABLE campaigns DROP COLUMN change_seq`);
    await q.query(`DROP SEQUENCE wallet_change_seq`);
  }
}
