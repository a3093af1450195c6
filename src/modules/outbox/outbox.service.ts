import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { JobName, JobPayloads } from '../../queues/queues';

export const OUTBOX_CHANNEL = 'wallet_outbox';

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
    // Delivered on commit: wakes the relay at once instead of at the next poll.
    await m.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]);
    return rows[0]!.id;
  }
}
