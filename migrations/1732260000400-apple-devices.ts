import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Apple Wallet web service: devices, their registrations for passes, and device log messages.
 *
 * - A device (deviceLibraryIdentifier → push token) is not owned by a tenant: one iPhone registers
 *   passes of many tenants at the same webServiceURL. Its registrations are: each carries the
 *   pass's tenant_id. There is no foreign key on that column on purpose: the pass's foreign key
 *   already cascades a tenant's deletion, and a second key would make every registration take a
 *   KEY SHARE lock on the one tenant row (multixact contention at thousands of registrations/s).
 * - Serial list (device + pass type): devices by unique identifier → registrations by primary key
 *   prefix (device_id) → passes and campaigns by primary key; the pass type is checked on the
 *   passes row that must be read anyway for serial and change sequence.
 * - Push targets of a pass: registrations (pass_id); of a campaign: passes_identity_unique
 *   (campaign_id, …) → registrations (pass_id). Tokens that APNs reports gone: devices (push_token).
 * - device_logs keeps the newest messages per tenant (the service trims it); tenant_id is NULL
 *   when no known serial number is named in the message.
 */
export class AppleDevices1732260000400 implements MigrationInterface {
  name = 'AppleDevices1732260000400';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE devices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        device_library_identifier text NOT NULL,
        push_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT devices_library_identifier_unique UNIQUE (device_library_identifier)
      )`);
    await q.query(`CREATE INDEX devices_push_token_idx ON devices (push_token)`);
    await q.query(`
      CREATE TABLE registrations (
        device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        pass_id uuid NOT NULL REFERENCES passes(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, pass_id)
      )`);
    await q.query(`CREATE INDEX registrations_pass_idx ON registrations (pass_id)`);
    await q.query(`
      CREATE TABLE device_logs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        pass_type_identifier text,
        serial_number text,
        device_library_identifier text,
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX device_logs_tenant_idx ON device_logs (tenant_id, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device_logs`);
    await q.query(`DROP TABLE registrations`);
    await q.query(`DROP TABLE devices`);
  }
}
