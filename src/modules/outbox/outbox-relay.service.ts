import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { JobName, QUEUE_NAMES, QUEUE_OF_JOB, QueueName, jobOptionsFor } from '../../queues/queues';
import { MetricsService } from '../metrics/metrics.service';
import { OUTBOX_CHANNEL } from './outbox.service';

interface OutboxRow {
  id: string;
  topic: JobName;
  payload: Record<string, unknown>;
}

const BATCH = 500;
const REDIS_TIMEOUT_MS = 5000;

/**
 * Moves committed outbox rows to BullMQ. Several relays (one per worker) share the table through
 * `FOR UPDATE SKIP LOCKED`; a row is marked relayed only after Redis accepted its job, and the job
 * id `ob-<row id>` makes a re-relay (crash between add and commit) a no-op.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelayService.name);
  private running = false;
  private wake?: () => void;
  private listener?: Client;
  private loop?: Promise<void>;
  private readonly queues: Record<QueueName, Queue>;
  private readonly relayed;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QUEUE_NAMES.google) google: Queue,
    @InjectQueue(QUEUE_NAMES.push) push: Queue,
    @InjectQueue(QUEUE_NAMES.bulk) bulk: Queue,
    @InjectQueue(QUEUE_NAMES.webhooks) webhooks: Queue,
    private readonly metrics: MetricsService,
  ) {
    this.queues = {
      [QUEUE_NAMES.google]: google,
      [QUEUE_NAMES.push]: push,
      [QUEUE_NAMES.bulk]: bulk,
      [QUEUE_NAMES.webhooks]: webhooks,
    };
    this.relayed = this.metrics.counter('outbox_relayed_total', 'Outbox rows moved to the queue', ['topic']);
    this.metrics.gauge('outbox_pending', 'Outbox rows not yet relayed', [], async function () {
      const rows = (await db
        .query(`SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL`)
        .catch(() => [{ n: 0 }])) as { n: number }[];
      this.set(rows[0]?.n ?? 0);
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    this.running = true;
    this.loop = this.run();
    void this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }

  /** Relays until nothing is pending; returns how many rows moved. */
  async relayPending(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayBatch();
      total += n;
      if (n < BATCH) return total;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.relayPending();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'outbox relay failed; will retry');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.outboxPollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async relayBatch(): Promise<number> {
    return this.db.transaction(async (m) => {
      const rows = await m.query<OutboxRow[]>(
        `SELECT id, topic, payload FROM outbox WHERE relayed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      if (rows.length === 0) return 0;
      const byQueue = new Map<QueueName, OutboxRow[]>();
      for (const r of rows) {
        const q = QUEUE_OF_JOB[r.topic];
        if (!q) throw new Error(`outbox topic ${r.topic} has no queue`);
        byQueue.set(q, [...(byQueue.get(q) ?? []), r]);
      }
      for (const [queue, items] of byQueue) {
        await withTimeout(
          this.queues[queue].addBulk(
            items.map((r) => ({
              name: r.topic,
              data: r.payload,
              opts: { ...jobOptionsFor(r.topic, this.config.webhookRetryBaseMs), jobId: `ob-${r.id}` },
            })),
          ),
          REDIS_TIMEOUT_MS,
          'Redis did not accept the jobs',
        );
      }
      await m.query(`UPDATE outbox SET relayed_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((r) => r.id),
      ]);
      for (const r of rows) this.relayed.inc({ topic: r.topic });
      return rows.length;
    });
  }

  private async listen(): Promise<void> {
    try {
      this.listener = new Client({ connectionString: this.config.databaseUrl });
      this.listener.on('error', () => undefined);
      await this.listener.connect();
      this.listener.on('notification', () => this.wake?.());
      await this.listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'outbox LISTEN unavailable; relying on polling');
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
