import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Push tokens move from the device to its registrations.
 *
 * One iPhone registers passes of many tenants and pass types at the same webServiceURL. With one
 * token per device, a registration made with any pass's authentication token replaced the token
 * every other pass type of the device was pushed with, and an APNs rejection of that token
 * removed the device's registrations everywhere. Now each registration carries the token it was
 * registered with; a registration rewrites the token of the device's registrations of its own
 * pass type only (the service keeps one token per device and pass type that way), and a rejected
 * token removes only registrations of the pass type and wallet configuration it was pushed under.
 *
 * Existing registrations keep their device's token. The devices row stays as the device's
 * identity and the lock that orders its registrations against its removal.
 *
 * - Push targets of a pass or a campaign read registrations (pass_id) alone, without devices.
 * - Tokens APNs reports gone: registrations_push_token_idx.
 */
export class RegistrationPushTokens1732260000700 implements MigrationInterface {
  name = 'RegistrationPushTokens1732260000700';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registrations ADD COLUMN push_token text`);
    await q.query(
      `UPDATE registrations r SET push_token = d.push_token FROM devices d WHERE d.id = r.device_id`,
    );
    await q.query(`ALTER TABLE registrations ALTER COLUMN push_token SET NOT NULL`);
    await q.query(`CREATE INDEX registrations_push_token_idx ON registrations (push_token)`);
    await q.query(`DROP INDEX devices_push_token_idx`);
    await q.query(`ALTER TABLE devices DROP COLUMN push_token`);
  }

  /** Back to one token per device: the token of the device's newest registration. */
  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices ADD COLUMN push_token text`);
    await q.query(
      `UPDATE devices d SET push_token = (
         SELECT r.push_token FROM registrations r WHERE r.device_id = d.id
          ORDER BY r.created_at DESC, r.pass_id LIMIT 1)`,
    );
    await q.query(`DELETE FROM devices WHERE push_token IS NULL`);
    await q.query(`ALTER TABLE devices ALTER COLUMN push_token SET NOT NULL`);
    await q.query(`CREATE INDEX devices_push_token_idx ON devices (push_token)`);
    await q.query(`DROP INDEX registrations_push_token_idx`);
    await q.query(`ALTER TABLE registrations DROP COLUMN push_token`);
  }
}
