import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox: a change and the intent to act on it (push, Google patch) are written
 * in one transaction; a relay moves pending rows to BullMQ with the row id as the job id.
 */
export class Outbox1732260000200 implements MigrationInterface {
  name = 'Outbox1732260000200';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        topic text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        relayed_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);
    await q.query(`CREATE INDEX outbox_pending_idx ON outbox (id) WHERE relayed_at IS NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
  }
}
