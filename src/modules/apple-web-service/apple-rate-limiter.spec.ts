import { createServer, Server } from 'node:net';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { AppleRateLimiter, RATE_LIMIT_WINDOW_MS } from './apple-rate-limiter';

/** A port nothing listens on: the server is closed right after the OS assigns it. */
async function deadPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const device = (limit: number, id = 'busy-device') => ({ kind: 'device' as const, id, limit });
const ip = (limit: number, id = '192.0.2.1') => ({ kind: 'ip' as const, id, limit });

describe('AppleRateLimiter', () => {
  let redis: Redis;
  let prefix: string;
  const limiters: AppleRateLimiter[] = [];
  const limiter = () => {
    const l = new AppleRateLimiter(redis, { queuePrefix: prefix } as AppConfig);
    limiters.push(l);
    return l;
  };

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    prefix = `spec-rl-${process.pid}-${Math.random().toString(36).slice(2)}`;
  });
  afterEach(async () => {
    for (const l of limiters.splice(0)) await l.onModuleDestroy();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('allows up to the limit and refuses the rest with a Retry-After within the window', () => {
    const l = limiter();
    const verdicts = Array.from({ length: 10 }, () => l.check([ip(100), device(6)]));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(6);
    for (const v of verdicts.slice(6)) {
      expect(v.allowed).toBe(false);
      if (!v.allowed) {
        expect(v.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(v.retryAfterSeconds).toBeLessThanOrEqual(RATE_LIMIT_WINDOW_MS / 1000);
      }
    }
    // Other devices are not affected.
    expect(l.check([ip(100), device(6, 'quiet-device')])).toEqual({ allowed: true });
  });

  it('adds its counts to Redis in one script call per sync, each key by what it counted', async () => {
    const l = limiter();
    const evalsha = jest.spyOn(redis, 'evalsha');
    for (let i = 0; i < 10; i++) l.check([ip(100, `192.0.2.${i % 3}`), device(6)]);
    await l.sync();
    // The first call finds no script (NOSCRIPT), loads it and calls again; then one per sync.
    expect(evalsha.mock.calls.length).toBeLessThanOrEqual(2);
    expect(await redis.get(`${prefix}:apple-rl:device:busy-device`)).toBe('10');
    expect(await redis.get(`${prefix}:apple-rl:ip:192.0.2.0`)).toBe('4');
    expect(await redis.get(`${prefix}:apple-rl:ip:192.0.2.2`)).toBe('3');
    const ttl = await redis.pttl(`${prefix}:apple-rl:device:busy-device`);
    expect(ttl).toBeGreaterThan(RATE_LIMIT_WINDOW_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(RATE_LIMIT_WINDOW_MS);
  });

  it('shares counts between replicas through Redis', async () => {
    const a = limiter();
    const b = limiter();
    for (let i = 0; i < 5; i++) expect(a.check([device(6)])).toEqual({ allowed: true });
    await a.sync();
    expect(b.check([device(6)])).toEqual({ allowed: true }); // b has not learned a's counts yet
    await b.sync(); // now it has: 6 in all
    expect(b.check([device(6)]).allowed).toBe(false);
    await b.sync();
    // a learns the other replica's counts with its own next sync: one request of its own is
    // judged on what it knew (5 + 1), the next on the shared total.
    expect(a.check([device(6)])).toEqual({ allowed: true });
    await a.sync();
    expect(a.check([device(6)]).allowed).toBe(false);
    await a.sync();
    expect(await redis.get(`${prefix}:apple-rl:device:busy-device`)).toBe('9');
  });

  it('stays exact for one client across many syncs, and forgets clients seen once', async () => {
    const l = limiter();
    const verdicts = [];
    for (let i = 0; i < 41; i++) {
      verdicts.push(l.check([ip(40, '203.0.113.7')]).allowed);
      if (i % 3 === 0) await l.sync();
    }
    expect(verdicts.slice(0, 40).every(Boolean)).toBe(true);
    expect(verdicts[40]).toBe(false);

    for (let i = 0; i < 100; i++) l.check([device(5, `new-device-${i}`)]);
    await l.sync();
    const counters = (l as unknown as { counters: Map<string, unknown> }).counters;
    expect([...counters.keys()].filter((k) => k.includes('new-device-'))).toEqual([]);
    expect(await redis.get(`${prefix}:apple-rl:device:new-device-42`)).toBe('1');
  });

  it('syncs on its own while there is traffic', async () => {
    const l = limiter();
    l.check([device(6)]);
    const key = `${prefix}:apple-rl:device:busy-device`;
    const deadline = Date.now() + 2_000;
    while ((await redis.get(key)) !== '1' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await redis.get(key)).toBe('1');
  });

  it('limits on its own counts while Redis is unreachable, logging once, and shares them when back', async () => {
    const dead = new Redis(`redis://127.0.0.1:${await deadPort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 1000,
    });
    dead.on('error', () => undefined);
    const l = new AppleRateLimiter(dead, { queuePrefix: prefix } as AppConfig);
    const logger = (l as unknown as { logger: { warn: () => void; log: () => void } }).logger;
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const back = jest.spyOn(logger, 'log').mockImplementation(() => undefined);
    try {
      const verdicts = [];
      for (let i = 0; i < 4; i++) {
        verdicts.push(l.check([device(3)]));
        await l.sync();
      }
      expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false]);
      expect(warn).toHaveBeenCalledTimes(1);
      // Redis is back (the same limiter on a live connection): the four counts reach it.
      (l as unknown as { redis: Redis }).redis = redis;
      await l.sync();
      expect(await redis.get(`${prefix}:apple-rl:device:busy-device`)).toBe('4');
      expect(back).toHaveBeenCalledTimes(1);
    } finally {
      await l.onModuleDestroy();
      dead.disconnect();
    }
  });

  it('never counts a subject whose limit is 0 (unlimited)', async () => {
    const l = limiter();
    for (let i = 0; i < 5; i++) expect(l.check([device(0)])).toEqual({ allowed: true });
    await l.sync();
    expect(await redis.exists(`${prefix}:apple-rl:device:busy-device`)).toBe(0);
  });
});
