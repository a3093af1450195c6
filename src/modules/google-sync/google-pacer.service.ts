import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { InjectRedis } from '../../integrations/redis/redis.module';

/** How long a 429 without Retry-After holds an issuer's calls. */
const DEFAULT_PAUSE_MS = 1_000;
/** A pause read from Redis is trusted this long before it is read again. */
const PAUSE_CACHE_MS = 100;

/**
 * Paces Google Wallet calls per issuer across every worker: at most GOOGLE_REQUESTS_PER_SECOND
 * per issuer and second (a counter per issuer and second in Redis), and none while Google has
 * told the issuer to back off (429 with Retry-After → a pause key every worker reads). Without
 * Redis each worker paces on its own counts.
 */
@Injectable()
export class GooglePacerService {
  private readonly local = new Map<string, { second: number; count: number }>();
  private readonly pauses = new Map<string, { until: number; readAt: number }>();

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Resolves when the issuer may make one more call. */
  async acquire(issuerId: string): Promise<void> {
    for (;;) {
      const pausedFor = (await this.pausedUntil(issuerId)) - Date.now();
      if (pausedFor > 0) {
        await sleep(pausedFor);
        continue;
      }
      const now = Date.now();
      const second = Math.floor(now / 1000);
      const count = await this.count(issuerId, second);
      if (count <= this.config.googleRequestsPerSecond) return;
      // Over the budget of this second: wait for the next one (a little jitter spreads the workers).
      await sleep((second + 1) * 1000 - now + Math.floor(Math.random() * 20));
    }
  }

  /** Google answered 429: every worker holds this issuer's calls for `ms` (or a second). */
  async pause(issuerId: string, ms: number | undefined): Promise<void> {
    const until = Date.now() + Math.max(ms ?? DEFAULT_PAUSE_MS, 100);
    this.pauses.set(issuerId, { until, readAt: Date.now() });
    await this.redis
      .set(this.key('pause', issuerId), String(until), 'PX', until - Date.now())
      .catch(() => undefined);
  }

  private async pausedUntil(issuerId: string): Promise<number> {
    const cached = this.pauses.get(issuerId);
    if (cached && Date.now() - cached.readAt < PAUSE_CACHE_MS) return cached.until;
    const stored = await this.redis.get(this.key('pause', issuerId)).catch(() => null);
    const until = Math.max(Number(stored ?? 0) || 0, cached && cached.until > Date.now() ? cached.until : 0);
    this.pauses.set(issuerId, { until, readAt: Date.now() });
    return until;
  }

  private async count(issuerId: string, second: number): Promise<number> {
    const key = this.key(`rate:${second}`, issuerId);
    try {
      const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, 2_000).exec()) as [
        [unknown, number],
        unknown,
      ];
      return count;
    } catch {
      const entry = this.local.get(issuerId);
      if (!entry || entry.second !== second) {
        this.local.set(issuerId, { second, count: 1 });
        return 1;
      }
      return ++entry.count;
    }
  }

  private key(kind: string, issuerId: string): string {
    return `${this.config.queuePrefix}:google-pace:${issuerId}:${kind}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
