import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Google progress of a campaign-wide update, next to the Apple counts: the saved Google objects
 * to patch (`google_total`, counted when the run starts), how many were patched or failed, and
 * where the run is — a keyset cursor over the campaign's passes by id plus the ids patched beyond
 * it (the run patches a few objects at once), so a run resumed after a crash or an outage of
 * Google patches no object twice. `google_status` is NULL for campaigns without Google.
 */
export class GoogleUpdateProgress1732260001010 implements MigrationInterface {
  name = 'GoogleUpdateProgress1732260001010';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE campaign_updates
        ADD COLUMN google_status text CHECK (google_status IN ('PENDING', 'RUNNING', 'DONE', 'COALESCED')),
        ADD COLUMN google_total integer,
        ADD COLUMN google_patched integer NOT NULL DEFAULT 0,
        ADD COLUMN google_failed integer NOT NULL DEFAULT 0,
        ADD COLUMN google_cursor uuid,
        ADD COLUMN google_done_ahead uuid[] NOT NULL DEFAULT '{}',
        ADD COLUMN google_finished_at timestamptz`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE campaign_updates
        DROP COLUMN google_status, DROP COLUMN google_total, DROP COLUMN google_patched,
        DROP COLUMN google_failed, DROP COLUMN google_cursor, DROP COLUMN google_done_ahead,
        DROP COLUMN google_finished_at`);
  }
}
