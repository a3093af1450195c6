/**
 * Every queue, job name and payload in one place. Outbox topics are job names; the relay sends
 * each to the queue named here, with the outbox row id as the job id (idempotent re-relay).
 */
export const QUEUE_NAMES = {
  google: 'google-wallet',
  push: 'apple-push',
  bulk: 'bulk-updates',
  webhooks: 'webhooks',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface JobPayloads {
  /** Insert or patch a campaign's Google class. */
  'google.class.sync': { tenantId: string; campaignId: string; contentVersion: number };
  /**
   * A campaign's content changed: patch every saved Google object of it (paced per issuer,
   * resumable; progress on the campaign update).
   */
  'google.campaign.objects': {
    tenantId: string;
    campaignId: string;
    updateId: string;
    contentVersion: number;
  };
  /** Patch (or re-state) one pass's Google object. */
  'google.object.sync': { tenantId: string; passId: string };
  /**
   * One pass changed: push its registered devices. `owed` is set by the job itself when some
   * pushes wait for a retry: the tokens (by pass type) the next attempt pushes.
   */
  'push.pass': {
    tenantId: string;
    passId: string;
    changeSeq: string;
    changedAt: string;
    owed?: [passTypeIdentifier: string, tokens: string[]][];
  };
  /** A campaign changed: fan out pushes to every device of its passes. */
  'push.campaign': { tenantId: string; campaignId: string; updateId: string; changedAt: string };
  /** A slice of a fan-out: push tokens for one pass type. */
  'push.batch': {
    tenantId: string;
    campaignId: string;
    walletConfigurationId: string;
    passTypeIdentifier: string;
    updateId: string | null;
    tokens: string[];
    changedAt: string;
  };
  /** A bulk update was uploaded: resolve its rows to passes and apply them in batches. */
  'bulk.apply': { tenantId: string; bulkUpdateId: string };
  /** One applied batch of a bulk update: push the changed passes' devices, patch their Google objects. */
  'bulk.fanout': {
    tenantId: string;
    campaignId: string;
    bulkUpdateId: string;
    /** The batch's first target (deterministic job ids for the pushes it fans out into). */
    batch: number;
    passIds: string[];
    googlePassIds: string[];
    changedAt: string;
  };
  /** Send one webhook delivery (retried with the webhook backoff for more than a day). */
  'webhook.deliver': { tenantId: string; deliveryId: string };
}
export type JobName = keyof JobPayloads;

export const QUEUE_OF_JOB: Record<JobName, QueueName> = {
  'google.class.sync': QUEUE_NAMES.google,
  'google.object.sync': QUEUE_NAMES.google,
  'google.campaign.objects': QUEUE_NAMES.google,
  'push.pass': QUEUE_NAMES.push,
  'push.campaign': QUEUE_NAMES.push,
  'push.batch': QUEUE_NAMES.push,
  'bulk.apply': QUEUE_NAMES.bulk,
  'bulk.fanout': QUEUE_NAMES.bulk,
  'webhook.deliver': QUEUE_NAMES.webhooks,
};

/** Retries with exponential backoff for jobs that talk to Apple or Google. */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 100000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** The custom backoff strategy name webhook jobs use (see WebhookDeliveryProcessor). */
export const WEBHOOK_BACKOFF = 'webhook';
/** Delivery attempts per webhook event: with the default 30 s base and 1 h cap, about 32 hours. */
export const WEBHOOK_ATTEMPTS = 40;

/** Longest wait between two webhook delivery attempts. */
export const WEBHOOK_MAX_DELAY_MS = 3600_000;

/**
 * Delay before webhook attempt `attemptsMade + 1`: the base doubles per attempt up to an hour,
 * ±10 % jitter so a recovering receiver is not hit by every retry at once.
 */
export function webhookBackoff(attemptsMade: number, baseMs: number, random = Math.random()): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), WEBHOOK_MAX_DELAY_MS);
  return Math.round(exp * (0.9 + 0.2 * random));
}

/** Job options by topic: webhooks retry for more than a day, everything else as DEFAULT_JOB_OPTIONS. */
export function jobOptionsFor(topic: JobName, webhookRetryBaseMs: number) {
  if (topic === 'webhook.deliver') {
    return {
      ...DEFAULT_JOB_OPTIONS,
      attempts: WEBHOOK_ATTEMPTS,
      backoff: { type: WEBHOOK_BACKOFF, delay: webhookRetryBaseMs },
      removeOnFail: { age: 14 * 24 * 3600 },
    };
  }
  return DEFAULT_JOB_OPTIONS;
}

export function redisConnectionOptions(redisUrl: string) {
  const u = new URL(redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
}
