import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the console's campaign page shows over time and per pass:
 * - registration_removals: one row per Apple registration that ended (device unregistered, or
 *   APNs reported its token gone), with when it had been made, so "devices registered per day"
 *   counts registrations that no longer exist too.
 * - push_daily_counters: pushes sent / failed per campaign and UTC day (the all-time totals stay
 *   in push_counters).
 * - pass_push_results: the outcome of the last push made for one pass (a pass PATCH or void).
 * - pass search by serial number, voucher code (the pass identity `v:<code>`) or contact id, exact
 *   or prefix: pattern-ops indexes within a campaign.
 */
export class CampaignActivity1732260001201 implements MigrationInterface {
  name = 'CampaignActivity1732260001201';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE registration_removals (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        pass_id uuid NOT NULL,
        registered_at timestamptz NOT NULL,
        removed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX registration_removals_campaign_idx ON registration_removals (campaign_id, removed_at)`,
    );
    await q.query(`
      CREATE TABLE push_daily_counters (
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        day date NOT NULL,
        sent bigint NOT NULL DEFAULT 0,
        failed bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (campaign_id, day)
      )`);
    await q.query(`
      CREATE TABLE pass_push_results (
        pass_id uuid PRIMARY KEY REFERENCES passes(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        pushed_at timestamptz NOT NULL DEFAULT now(),
        sent integer NOT NULL,
        failed integer NOT NULL,
        unregistered integer NOT NULL
      )`);
    await q.query(
      `CREATE INDEX passes_search_serial_idx ON passes (campaign_id, serial_number text_pattern_ops)`,
    );
    await q.query(
      `CREATE INDEX passes_search_identity_idx ON passes (campaign_id, identity text_pattern_ops)`,
    );
    await q.query(
      `CREATE INDEX passes_search_contact_idx ON passes (campaign_id, (data->'contact'->>'id') text_pattern_ops)`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX passes_search_contact_idx`);
    await q.query(`DROP INDEX passes_search_identity_idx`);
    await q.query(`DROP INDEX passes_search_serial_idx`);
    await q.query(`DROP TABLE pass_push_results`);
    await q.query(`DROP TABLE push_daily_counters`);
    await q.query(`DROP TABLE registration_removals`);
  }
}
