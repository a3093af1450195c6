import { createServer, Server } from 'node:net';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { AppleRateLimiter } from './apple-rate-limiter';

/** A port nothing listens on: the server is closed right after the OS assigns it. */
async function deadPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('AppleRateLimiter', () => {
  it('allows every request, logging once, while Redis is unreachable', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await deadPort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 1000,
    });
    redis.on('error', () => undefined);
    const config = { queuePrefix: 'spec' } as AppConfig;
    const limiter = new AppleRateLimiter(redis, config);
    const warn = jest.spyOn((limiter as unknown as { logger: { warn: () => void } }).logger, 'warn');
    warn.mockImplementation(() => undefined);
    try {
      for (let i = 0; i < 3; i++) {
        await expect(limiter.check([{ kind: 'ip', id: '192.0.2.1', limit: 1 }])).resolves.toEqual({
          allowed: true,
        });
      }
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      redis.disconnect();
    }
  });

  it('skips Redis entirely when every limit is 0 (unlimited)', async () => {
    const redis = { evalsha: jest.fn(), script: jest.fn() } as unknown as Redis;
    const limiter = new AppleRateLimiter(redis, { queuePrefix: 'spec' } as AppConfig);
    await expect(limiter.check([{ kind: 'device', id: 'd', limit: 0 }])).resolves.toEqual({ allowed: true });
    expect((redis as unknown as { evalsha: jest.Mock }).evalsha).not.toHaveBeenCalled();
  });
});
