import { MigrationInterface, QueryRunner } from 'typeorm';

/** Progress of campaign-wide updates and push counters per campaign, for the stats endpoint. */
export class PassUpdates1732260000500 implements MigrationInterface {
  name = 'PassUpdates1732260000500';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE campaign_updates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        content_version integer NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'COALESCED')),
        total integer,
        sent integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX campaign_updates_campaign_idx ON campaign_updates (campaign_id, created_at DESC)`,
    );
    await q.query(`
      CREATE TABLE push_counters (
        campaign_id uuid PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        sent bigint NOT NULL DEFAULT 0,
        failed bigint NOT NULL DEFAULT 0,
        unregistered bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE push_counters`);
    await q.query(`DROP TABLE campaign_updates`);
  }
}
