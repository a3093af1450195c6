import { Injectable } from '@nestjs/common';
import { EntityManager, EventSubscriber, type EntitySubscriberInterface, type QueryRunner } from 'typeorm';
import type { TransactionCommitEvent } from 'typeorm/subscriber/event/TransactionCommitEvent';
import { JobName, JobPayloads } from '../../queues/queues';

export const OUTBOX_CHANNEL = 'wallet_outbox';

/** Transactions that wrote outbox rows and have not committed yet. */
const wroteOutbox = new WeakSet<QueryRunner>();

/**
 * Writes intents to act (push, Google sync) in the caller's transaction, so a change and its
 * consequences commit together. The relay moves them to BullMQ after commit.
 */
@Injectable()
export class OutboxService {
  async add<N extends JobName>(
    m: EntityManager,
    tenantId: string,
    topic: N,
    payload: JobPayloads[N],
  ): Promise<string> {
    const rows = await m.query<{ id: string }[]>(
      `INSERT INTO outbox (tenant_id, topic, payload) VALUES ($1, $2, $3) RETURNING id`,
      [tenantId, topic, JSON.stringify(payload)],
    );
    if (m.queryRunner?.isTransactionActive) wroteOutbox.add(m.queryRunner);
    else await m.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]); // committed already
    return rows[0]!.id;
  }
}

/**
 * Wakes the relay (PostgreSQL NOTIFY) once a transaction that wrote outbox rows has committed,
 * instead of inside it: a NOTIFY in a transaction holds PostgreSQL's cluster-wide notification
 * lock from commit start to commit end (WAL flush included), which would make every change of
 * every tenant commit one after another. Sent on its own, it has no transaction id and no WAL
 * flush; wake-ups of one event-loop turn share one NOTIFY. The relay also polls
 * (`OUTBOX_POLL_MS`), so a lost wake-up only delays.
 */
@EventSubscriber()
export class OutboxCommitSubscriber implements EntitySubscriberInterface {
  private scheduled = false;

  afterTransactionCommit(event: TransactionCommitEvent): void {
    if (!wroteOutbox.has(event.queryRunner)) return;
    wroteOutbox.delete(event.queryRunner);
    if (this.scheduled) return;
    this.scheduled = true;
    const db = event.connection;
    setImmediate(() => {
      this.scheduled = false;
      db.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]).catch(() => undefined);
    });
  }

  afterTransactionRollback(event: { queryRunner: QueryRunner }): void {
    wroteOutbox.delete(event.queryRunner);
  }
}
