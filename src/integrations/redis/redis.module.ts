import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';

export const REDIS = Symbol('REDIS');
export const InjectRedis = (): ParameterDecorator => Inject(REDIS);

/** Creates Redis connections that never crash the process when Redis is away: commands fail fast, reconnects go on. */
@Injectable()
export class RedisConnectionFactory implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly connections: Redis[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  create(name: string, opts: { forBullmq?: boolean; offlineQueue?: boolean } = {}): Redis {
    const conn = new Redis(this.config.redisUrl, {
      connectionName: `wallet-${name}`,
      lazyConnect: false,
      enableOfflineQueue: opts.offlineQueue ?? opts.forBullmq ?? false,
      maxRetriesPerRequest: opts.forBullmq ? null : 1,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    let lastLog = 0;
    conn.on('error', (err: Error) => {
      if (Date.now() - lastLog > 10000) {
        lastLog = Date.now();
        this.logger.warn({ connection: name, err: err.message }, 'Redis connection error');
      }
    });
    this.connections.push(conn);
    return conn;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

@Global()
@Module({
  providers: [
    RedisConnectionFactory,
    {
      provide: REDIS,
      inject: [RedisConnectionFactory],
      useFactory: (f: RedisConnectionFactory) => f.create('shared'),
    },
  ],
  exports: [RedisConnectionFactory, REDIS],
})
export class RedisModule {}
