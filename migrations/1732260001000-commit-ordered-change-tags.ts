import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Change tags without a global lock.
 *
 * Before: every content change took `nextval('wallet_change_seq')` under one advisory lock, so tag
 * order was commit order — and every change of every tenant waited on that lock.
 *
 * Now a change's tag is its transaction id (`pg_current_xact_id()`, 64-bit, never wraps) plus a
 * constant offset that puts every new tag above every sequence value handed out before, so tags a
 * device already holds stay comparable. Transaction ids are assigned in start order, not commit
 * order; the serial list therefore answers `lastUpdated` = a tag below which every transaction is
 * known to be finished in its own snapshot (see `wallet_change_horizon`), never simply the largest
 * tag it saw. A change still in flight always gets a tag above that horizon, so the device's next
 * request lists it.
 *
 * - `wallet_change_tag()`: the tag of a change made by the calling transaction.
 * - `wallet_change_floor()`: cheap lower bound of the horizon (the snapshot's xmin, all databases).
 * - `wallet_change_horizon()`: the snapshot's oldest transaction still running, ignoring those that
 *   are known to run in another database of the cluster (they cannot change our rows); unknown ones
 *   (finished meanwhile) count, which is only ever more conservative.
 * Both read the caller's snapshot (STABLE SQL functions run with the statement's snapshot).
 */
export class CommitOrderedChangeTags1732260001000 implements MigrationInterface {
  name = 'CommitOrderedChangeTags1732260001000';

  public async up(q: QueryRunner): Promise<void> {
    const rows = (await q.query(
      `SELECT GREATEST(0,
                (SELECT GREATEST(s.last_value,
                   (SELECT COALESCE(max(change_seq), 0) FROM passes),
                   (SELECT COALESCE(max(change_seq), 0) FROM campaigns)) FROM wallet_change_seq s)
                + 1 - pg_current_xact_id()::text::bigint)::text AS offset`,
    )) as { offset: string }[];
    const offset = BigInt(rows[0]!.offset);
    await q.query(
      `CREATE FUNCTION wallet_change_tag_offset() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
         AS 'SELECT ${offset.toString()}::bigint'`,
    );
    await q.query(
      `CREATE FUNCTION wallet_change_tag() RETURNS bigint LANGUAGE sql VOLATILE
         AS 'SELECT pg_current_xact_id()::text::bigint + wallet_change_tag_offset()'`,
    );
    await q.query(
      `CREATE FUNCTION wallet_change_floor() RETURNS bigint LANGUAGE sql STABLE
         AS 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint + wallet_change_tag_offset() - 1'`,
    );
    await q.query(`
      CREATE FUNCTION wallet_change_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
        SELECT COALESCE(
                 (SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap) AS x
                   WHERE (x::text::bigint % 4294967296) NOT IN (
                     SELECT a.backend_xid::text::bigint FROM pg_stat_get_activity(NULL) a
                      WHERE a.backend_xid IS NOT NULL
                        AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database()))),
                 pg_snapshot_xmax(snap)::text::bigint)
               + wallet_change_tag_offset() - 1
          FROM pg_current_snapshot() AS snap
      $$`);
    await q.query(`ALTER TABLE passes ALTER COLUMN change_seq SET DEFAULT wallet_change_tag()`);
    await q.query(`ALTER TABLE campaigns ALTER COLUMN change_seq SET DEFAULT wallet_change_tag()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaigns ALTER COLUMN change_seq SET DEFAULT nextval('wallet_change_seq')`);
    await q.query(`ALTER TABLE passes ALTER COLUMN change_seq SET DEFAULT nextval('wallet_change_seq')`);
    // Tags handed out meanwhile are transaction ids plus the offset: continue above them.
    await q.query(
      `SELECT setval('wallet_change_seq', GREATEST((SELECT last_value FROM wallet_change_seq),
         (SELECT COALESCE(max(change_seq), 1) FROM passes), (SELECT COALESCE(max(change_seq), 1) FROM campaigns)))`,
    );
    await q.query(`DROP FUNCTION wallet_change_horizon()`);
    await q.query(`DROP FUNCTION wallet_change_floor()`);
    await q.query(`DROP FUNCTION wallet_change_tag()`);
    await q.query(`DROP FUNCTION wallet_change_tag_offset()`);
  }
}
