import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { InjectRedis } from '../../integrations/redis/redis.module';

export const RATE_LIMIT_WINDOW_MS = 60_000;
/** How often this replica adds its counts to Redis and learns the other replicas'. */
export const RATE_LIMIT_SYNC_MS = 50;
/** How often counters of ended windows are dropped from memory. */
const SWEEP_MS = 10_000;

/**
 * Adds each key's increment (ARGV[i + 1]) to its window counter, starting the window on the key's
 * first count (PEXPIRE ARGV[1]), and answers the total and remaining milliseconds per key.
 */
const SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCRBY', key, ARGV[i + 1])
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out`;

export interface RateLimitSubject {
  /**
   * `login-*`: console sign-in attempts (the auth module runs its own instance of this limiter);
   * `log-ip`: device log messages per client IP; `tenant-*`: per-tenant limits (TenantRateLimitGuard).
   */
  kind: 'device' | 'ip' | 'login-email' | 'login-ip' | 'log-ip' | 'tenant-urls' | 'tenant-api';
  id: string;
  limit: number;
}

export type RateLimitVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Counter {
  key: string;
  /** In `dirty`, waiting for the next sync. */
  queued: boolean;
  /** The window's total in Redis (every replica) when last synced, including our synced counts. */
  synced: number;
  /** Counted here and being added to Redis right now. */
  sending: number;
  /** Counted here since the last sync started. */
  pending: number;
  /** When the window ends (epoch ms); until the first sync, an upper bound. */
  endsAt: number;
}

/**
 * Fixed-window request counters for the Apple web service, per device library identifier and per
 * client IP. Wallet traffic stays far below the limits; they exist to stop a client that loops.
 *
 * Decisions are made in memory, without a round trip: a request counts against what this replica
 * last learned from Redis plus what it counted since. Every RATE_LIMIT_SYNC_MS (only while there
 * is traffic) one script call adds this replica's counts to the shared counters in Redis and
 * brings back the totals of all replicas. So one replica enforces its limit exactly; across N
 * replicas a client can exceed it by what the other replicas let through in one sync interval.
 *
 * Memory: a counter lives until its window ends, except that one with a single request in all
 * (a new device registering, the common case) is dropped after its sync; if that client comes
 * back within the window, it is counted one short until the next sync. When Redis is
 * unreachable, each replica goes on limiting on its own counts (logged once per outage) and
 * shares them when Redis is back.
 */
@Injectable()
export class AppleRateLimiter implements OnModuleDestroy {
  private readonly logger = new Logger(AppleRateLimiter.name);
  private readonly prefix: string;
  private readonly counters = new Map<string, Counter>();
  /** Counters with counts not yet sent to Redis. */
  private dirty: Counter[] = [];
  private scriptSha: string | undefined;
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @InjectConfig() config: AppConfig,
  ) {
    this.prefix = `${config.queuePrefix}:apple-rl:`;
  }

  /** Counts `cost` (requests, messages, URLs…) against every subject; refused when any is over its limit. */
  check(subjects: RateLimitSubject[], now = Date.now(), cost = 1): RateLimitVerdict {
    let retryAfterMs = 0;
    for (const s of subjects) {
      if (s.limit <= 0) continue;
      const key = `${this.prefix}${s.kind}:${s.id}`;
      let c = this.counters.get(key);
      if (c === undefined) {
        c = { key, queued: false, synced: 0, sending: 0, pending: 0, endsAt: 0 };
        this.counters.set(key, c);
      }
      if (c.endsAt <= now && c.sending === 0) {
        // A new window (counts of the ended one no longer matter).
        c.synced = 0;
        c.pending = 0;
        c.endsAt = now + RATE_LIMIT_WINDOW_MS;
      }
      c.pending += cost;
      this.markDirty(c);
      if (c.synced + c.sending + c.pending > s.limit) retryAfterMs = Math.max(retryAfterMs, c.endsAt - now);
    }
    if (this.timer === undefined && this.dirty.length > 0) this.scheduleSync();
    if (this.sweeper === undefined && this.counters.size > 0) this.scheduleSweep();
    if (retryAfterMs === 0) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
  }

  /** Sends the counts made since the last sync now (also used by tests and at shutdown). */
  async sync(): Promise<void> {
    while (this.syncing) await this.syncing;
    this.syncing = this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    await this.syncing;
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.sweeper) clearTimeout(this.sweeper);
    this.timer = undefined;
    await this.sync().catch(() => undefined);
  }

  /** Queues the counter for the next sync, once. */
  private markDirty(c: Counter): void {
    if (c.queued) return;
    c.queued = true;
    this.dirty.push(c);
  }

  private scheduleSync(): void {
    this.timer = setTimeout(() => {
      void this.sync().finally(() => {
        this.timer = undefined;
        if (this.dirty.length > 0) this.scheduleSync();
      });
    }, RATE_LIMIT_SYNC_MS);
    this.timer.unref();
  }

  private scheduleSweep(): void {
    this.sweeper = setTimeout(() => {
      this.sweeper = undefined;
      const now = Date.now();
      for (const [key, c] of this.counters) {
        if (c.endsAt <= now && c.pending === 0 && c.sending === 0) this.counters.delete(key);
      }
      if (this.counters.size > 0) this.scheduleSweep();
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  private async syncOnce(): Promise<void> {
    const sent = this.dirty;
    if (sent.length === 0) return;
    this.dirty = [];
    for (const c of sent) {
      c.queued = false;
      c.sending = c.pending;
      c.pending = 0;
    }
    let reply: number[];
    try {
      reply = await this.run(sent);
      if (this.failing) {
        this.failing = false;
        this.logger.log(
          {},
          'Apple web service rate limits are shared across replicas again (Redis reachable)',
        );
      }
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          { err: (err as Error).message },
          'Redis is unreachable: Apple web service rate limits count this replica only until it is back',
        );
      }
      // Counted locally all the same: they go to Redis with the next successful sync.
      for (const c of sent) {
        c.pending += c.sending;
        c.sending = 0;
        this.markDirty(c);
      }
      return;
    }
    const after = Date.now();
    sent.forEach((c, i) => {
      c.synced = Number(reply[2 * i] ?? c.synced + c.sending);
      c.endsAt = after + Number(reply[2 * i + 1] ?? RATE_LIMIT_WINDOW_MS);
      c.sending = 0;
      if (c.pending === 0 && !c.queued && c.synced <= 1 && this.counters.get(c.key) === c) {
        this.counters.delete(c.key);
      }
    });
  }

  private async run(counters: Counter[]): Promise<number[]> {
    const keys = counters.map((c) => c.key);
    const args = [String(RATE_LIMIT_WINDOW_MS), ...counters.map((c) => String(c.sending))];
    if (this.scriptSha) {
      try {
        return (await this.redis.evalsha(this.scriptSha, keys.length, ...keys, ...args)) as number[];
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      }
    }
    this.scriptSha = (await this.redis.script('LOAD', SCRIPT)) as string;
    return (await this.redis.evalsha(this.scriptSha, keys.length, ...keys, ...args)) as number[];
  }
}
