import { Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { InjectRedis } from '../../integrations/redis/redis.module';

export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * One round trip for every counter of a request: INCR each key, start its window on the first
 * hit (PEXPIRE), answer count and remaining milliseconds per key. The window starts at a key's
 * first request rather than on the clock minute, so a burst is never split across two windows.
 */
const SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = -1
  if n > 1 then ttl = redis.call('PTTL', key) end
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out`;

export interface RateLimitSubject {
  kind: 'device' | 'ip';
  id: string;
  limit: number;
}

export type RateLimitVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Fixed-window request counters in Redis for the Apple web service, per device library
 * identifier and per client IP. Wallet traffic stays far below the limits; they exist to stop a
 * client that loops. When Redis is unreachable every request is allowed (logged once per outage).
 */
@Injectable()
export class AppleRateLimiter {
  private readonly logger = new Logger(AppleRateLimiter.name);
  private scriptSha: string | undefined;
  private failing = false;
  private readonly prefix: string;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @InjectConfig() config: AppConfig,
  ) {
    this.prefix = `${config.queuePrefix}:apple-rl:`;
  }

  async check(subjects: RateLimitSubject[]): Promise<RateLimitVerdict> {
    const active = subjects.filter((s) => s.limit > 0);
    if (active.length === 0) return { allowed: true };
    const keys = active.map((s) => `${this.prefix}${s.kind}:${s.id}`);
    let reply: number[];
    try {
      reply = await this.run(keys);
      if (this.failing) {
        this.failing = false;
        this.logger.log({}, 'Apple web service rate limiting is back (Redis reachable)');
      }
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          { err: (err as Error).message },
          'Apple web service rate limiting is off while Redis is unreachable; allowing requests',
        );
      }
      return { allowed: true };
    }
    let retryAfterMs = 0;
    active.forEach((s, i) => {
      const count = reply[2 * i] ?? 0;
      const ttl = reply[2 * i + 1] ?? RATE_LIMIT_WINDOW_MS;
      if (count > s.limit) retryAfterMs = Math.max(retryAfterMs, ttl);
    });
    if (retryAfterMs === 0) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
  }

  private async run(keys: string[]): Promise<number[]> {
    const window = String(RATE_LIMIT_WINDOW_MS);
    if (this.scriptSha) {
      try {
        return (await this.redis.evalsha(this.scriptSha, keys.length, ...keys, window)) as number[];
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      }
    }
    this.scriptSha = (await this.redis.script('LOAD', SCRIPT)) as string;
    return (await this.redis.evalsha(this.scriptSha, keys.length, ...keys, window)) as number[];
  }
}
