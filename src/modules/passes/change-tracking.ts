/**
 * Change tags for Apple's web service, without a lock: a change's tag is its transaction id plus
 * a constant (`wallet_change_tag()`, see migration 1732260001000), so concurrent changes of any
 * tenants never wait on each other. Tags are handed out in transaction start order, not commit
 * order; readers of tags therefore use a horizon (`SERIAL_LIST_*_SQL` in the Apple devices
 * repository) instead of the largest tag they see.
 *
 * A row's tag never goes down (GREATEST with the previous tag + 1), so "the row's tag is above the
 * one my job carries" still means "changed again since".
 *
 * Timestamps move to a later whole second than the previous one, because Last-Modified /
 * If-Modified-Since have one-second precision: two changes in one second must not look alike.
 */

/** SQL assignment list that marks a pass changed (use inside an UPDATE passes SET …). */
export const PASS_CHANGED_SET = `change_seq = GREATEST(wallet_change_tag(), change_seq + 1),
  updated_at = GREATEST(clock_timestamp(), date_trunc('second', updated_at) + interval '1 second')`;

/** SQL assignment list that marks a campaign's content changed (UPDATE campaigns SET …). */
export const CAMPAIGN_CHANGED_SET = `change_seq = GREATEST(wallet_change_tag(), change_seq + 1),
  content_version = content_version + 1,
  content_updated_at = GREATEST(clock_timestamp(), date_trunc('second', content_updated_at) + interval '1 second')`;
