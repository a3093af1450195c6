import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS } from '../../integrations/redis/redis.module';

export interface DependencyHealth {
  status: 'ok' | 'down' | 'degraded';
  latencyMs?: number;
  error?: string;
  [detail: string]: unknown;
}

export type HealthStatus = 'ok' | 'down' | 'degraded';

/** The public answer: one word, nothing about tenants or configurations. */
export interface HealthSummary {
  status: HealthStatus;
}

/** For the platform operator (`/health/details`): every component and its details. */
export interface HealthReport {
  status: HealthStatus;
  components: Record<string, DependencyHealth>;
}

/** Extra checks other modules contribute (queues, APNs credentials). */
export interface HealthContributor {
  name: string;
  check(): Promise<DependencyHealth>;
}

async function timed(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<DependencyHealth> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok', latencyMs: Date.now() - started };
  } catch (err) {
    return { status: 'down', latencyMs: Date.now() - started, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class HealthService {
  private readonly contributors: HealthContributor[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  register(c: HealthContributor): void {
    this.contributors.push(c);
  }

  /** `down` when PostgreSQL or Redis is unreachable, `degraded` when any other component is not ok. */
  async summary(): Promise<HealthSummary> {
    return { status: (await this.details()).status };
  }

  async details(): Promise<HealthReport> {
    const entries = await Promise.all([
      timed(() => this.db.query('SELECT 1')).then((r) => ['database', r] as const),
      timed(() => this.redis.ping()).then((r) => ['redis', r] as const),
      ...this.contributors.map((c) =>
        c
          .check()
          .catch((err: Error) => ({ status: 'down' as const, error: err.message }))
          .then((r) => [c.name, r] as const),
      ),
    ]);
    const components = Object.fromEntries(entries);
    const core = [components.database, components.redis];
    const status = core.some((c) => c?.status === 'down')
      ? 'down'
      : Object.values(components).some((c) => c.status !== 'ok')
        ? 'degraded'
        : 'ok';
    return { status, components };
  }
}
