import { ApnsError, type ApnsResponse } from './apns-connection';

/**
 * What a pass server does with one push outcome.
 * - `delivered`: done.
 * - `unregistered`: the token is dead for this pass type; delete every registration using it
 *   (400 BadDeviceToken only means that against the production host, which is the only one Wallet
 *   tokens work with).
 * - `retry`: transient; retry later with `backoffDelay`.
 * - `certificate`: the Pass Type ID certificate is refused (expired, revoked, wrong environment);
 *   stop pushing with it and alert.
 * - `configuration`: pass type id / topic does not match the credentials; alert, delete nothing.
 * - `bug`: the request itself is wrong; fix the code.
 */
export type ApnsOutcome = 'delivered' | 'unregistered' | 'retry' | 'certificate' | 'configuration' | 'bug';

const CONFIGURATION_REASONS = new Set([
  'DeviceTokenNotForTopic',
  'BadTopic',
  'TopicDisallowed',
  'MissingTopic',
]);
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Classifies an APNs response, or the ApnsError a push was rejected with. */
export function classifyApnsResponse(res: ApnsResponse | Error): ApnsOutcome {
  if (res instanceof Error) return classifyError(res);
  const { status, reason } = res;
  if (status === 200) return 'delivered';
  if (status === 410) return 'unregistered';
  if (RETRY_STATUSES.has(status)) return 'retry';
  if (status === 403) return 'certificate';
  if (status === 400) {
    if (reason === 'BadDeviceToken') return 'unregistered';
    if (reason !== undefined && CONFIGURATION_REASONS.has(reason)) return 'configuration';
    // APNs closes idle connections this way; the next push reconnects.
    if (reason === 'IdleTimeout') return 'retry';
  }
  return 'bug';
}

function classifyError(err: Error): ApnsOutcome {
  if (!(err instanceof ApnsError)) return 'bug';
  switch (err.kind) {
    case 'timeout':
    case 'connection':
    case 'closed':
      return 'retry';
    case 'tls-rejected':
    case 'credentials':
      return 'certificate';
    case 'tls-untrusted':
      return 'configuration';
  }
}

/**
 * Delay before retry number `attempt` (1 = first retry): uniformly random in
 * [0, min(maxMs, baseMs * 2^(attempt - 1))) — "full jitter", so a burst of failures does not retry
 * in lockstep.
 */
export function backoffDelay(attempt: number, baseMs = 500, maxMs = 60_000): number {
  const exponent = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt) - 1) : 1024;
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.floor(Math.random() * ceiling);
}
