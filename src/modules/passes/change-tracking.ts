import { EntityManager } from 'typeorm';

/**
 * Change tags for Apple's web service. Every content change of a pass or a campaign takes
 * `nextval('wallet_change_seq')` while holding this transaction-scoped advisory lock, so changes
 * commit in sequence order and a reader never sees tag N+1 before change N is visible.
 * Timestamps move to a later whole second than the previous one, because Last-Modified /
 * If-Modified-Since have one-second precision: two changes in one second must not look alike.
 */
export const CHANGE_LOCK_KEY = 7305120;

export async function lockChangeSequence(m: EntityManager): Promise<void> {
  await m.query('SELECT pg_advisory_xact_lock($1)', [CHANGE_LOCK_KEY]);
}

/** SQL assignment list that marks a pass changed (use inside an UPDATE passes SET …). */
export const PASS_CHANGED_SET = `change_seq = nextval('wallet_change_seq'),
  updated_at = GREATEST(clock_timestamp(), date_trunc('second', updated_at) + interval '1 second')`;

/** SQL assignment list that marks a campaign's content changed (UPDATE campaigns SET …). */
export const CAMPAIGN_CHANGED_SET = `change_seq = nextval('wallet_change_seq'),
  content_version = content_version + 1,
  content_updated_at = GREATEST(clock_timestamp(), date_trunc('second', content_updated_at) + interval '1 second')`;
