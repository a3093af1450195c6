import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants, API keys, dev secrets, wallet configurations, campaigns and their images. */
export class Foundation1732260000000 implements MigrationInterface {
  name = 'Foundation1732260000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE system_secrets (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        lookup_id text NOT NULL UNIQUE,
        secret_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at)`);
    await q.query(`
      CREATE TABLE wallet_configurations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        apple_pass_type_identifier text,
        apple_team_identifier text,
        apple_certificate_pem text,
        apple_wwdr_certificate_pem text,
        apple_private_key_enc text,
        apple_passphrase_enc text,
        apple_certificate_expires_at timestamptz,
        google_issuer_id text,
        google_client_email text,
        google_service_account_enc text,
        apns_status text NOT NULL DEFAULT 'OK' CHECK (apns_status IN ('OK', 'UNHEALTHY')),
        apns_error text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((apple_pass_type_identifier IS NULL) = (apple_private_key_enc IS NULL)),
        CHECK ((google_issuer_id IS NULL) = (google_service_account_enc IS NULL))
      )`);
    await q.query(
      `CREATE INDEX wallet_configurations_tenant_idx ON wallet_configurations (tenant_id, created_at)`,
    );
    await q.query(`
      CREATE TABLE campaigns (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        wallet_configuration_id uuid NOT NULL REFERENCES wallet_configurations(id) ON DELETE RESTRICT,
        name text NOT NULL,
        pass_style text NOT NULL CHECK (pass_style IN ('coupon', 'storeCard', 'eventTicket', 'generic')),
        template jsonb NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
        link_ttl_seconds integer CHECK (link_ttl_seconds > 0),
        google_class_id text,
        google_sync_status text CHECK (google_sync_status IN ('PENDING', 'SYNCED', 'FAILED')),
        google_sync_error text,
        google_sync_attempts integer NOT NULL DEFAULT 0,
        content_version integer NOT NULL DEFAULT 1,
        content_updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz
      )`);
    await q.query(`CREATE INDEX campaigns_tenant_idx ON campaigns (tenant_id, created_at)`);
    await q.query(`CREATE INDEX campaigns_wallet_configuration_idx ON campaigns (wallet_configuration_id)`);
    await q.query(`
      CREATE TABLE campaign_images (
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL CHECK (name IN ('icon', 'logo', 'strip', 'thumbnail', 'background', 'footer')),
        png bytea NOT NULL,
        sha1 text NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (campaign_id, name)
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE campaign_images`);
    await q.query(`DROP TABLE campaigns`);
    await q.query(`DROP TABLE wallet_configurations`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE tenants`);
    await q.query(`DROP TABLE system_secrets`);
  }
}
