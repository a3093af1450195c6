import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface WebhookRow {
  id: string;
  tenant_id: string;
  url: string;
  events: string[];
  secret_ciphertext: string;
  status: 'ACTIVE' | 'DISABLED';
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
}

export interface DeliveryRow {
  id: string;
  tenant_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  body: string;
  status: 'PENDING' | 'RETRYING' | 'DELIVERED' | 'FAILED' | 'CANCELLED';
  attempts: number;
  response_status: number | null;
  response_time_ms: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  redelivery_of: string | null;
  created_at: Date;
}

export type DeliveryForSend = DeliveryRow & {
  url: string;
  secret_ciphertext: string;
  webhook_status: 'ACTIVE' | 'DISABLED';
};

const DELIVERY_COLUMNS = `id, tenant_id, webhook_id, event_id, event_type, body, status, attempts, response_status,
  response_time_ms, last_error, last_attempt_at, delivered_at, redelivery_of, created_at`;

/** The only writer of `webhooks` and `webhook_deliveries`. Every read names the tenant. */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(input: {
    id: string;
    tenantId: string;
    url: string;
    events: string[];
    secretCiphertext: string;
  }): Promise<WebhookRow> {
    const rows = await this.db.query<WebhookRow[]>(
      `INSERT INTO webhooks (id, tenant_id, url, events, secret_ciphertext) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [input.id, input.tenantId, input.url, input.events, input.secretCiphertext],
    );
    return rows[0]!;
  }

  list(tenantId: string): Promise<WebhookRow[]> {
    return this.db.query<WebhookRow[]>(
      `SELECT * FROM webhooks WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenantId],
    );
  }

  async find(tenantId: string, id: string): Promise<WebhookRow | null> {
    const rows = await this.db.query<WebhookRow[]>(
      `SELECT * FROM webhooks WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    const [, count] = await this.db.query<[unknown, number]>(
      `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return count > 0;
  }

  /**
   * One delivery per active webhook of the tenant subscribed to `type`, in the caller's
   * transaction. Returns the new delivery ids (usually none or one).
   */
  async insertEventDeliveries(
    m: EntityManager,
    tenantId: string,
    eventId: string,
    type: string,
    body: string,
  ): Promise<string[]> {
    const rows = await m.query<{ id: string }[]>(
      `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type, body)
       SELECT w.tenant_id, w.id, $2, $3, $4 FROM webhooks w
       WHERE w.tenant_id = $1 AND w.status = 'ACTIVE' AND $3 = ANY(w.events)
       RETURNING id`,
      [tenantId, eventId, type, body],
    );
    return rows.map((r) => r.id);
  }

  /** One delivery to one webhook (test pings, redeliveries), in the caller's transaction. */
  async insertDelivery(
    m: EntityManager,
    input: {
      tenantId: string;
      webhookId: string;
      eventId: string;
      type: string;
      body: string;
      redeliveryOf?: string;
    },
  ): Promise<DeliveryRow> {
    const rows = await m.query<DeliveryRow[]>(
      `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type, body, redelivery_of)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${DELIVERY_COLUMNS}`,
      [input.tenantId, input.webhookId, input.eventId, input.type, input.body, input.redeliveryOf ?? null],
    );
    return rows[0]!;
  }

  async listDeliveries(
    tenantId: string,
    webhookId: string,
    limit: number,
    offset: number,
  ): Promise<{ rows: DeliveryRow[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db.query<DeliveryRow[]>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2
         ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`,
        [tenantId, webhookId, limit, offset],
      ),
      this.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2`,
        [tenantId, webhookId],
      ),
    ]);
    return { rows, total: count[0]?.n ?? 0 };
  }

  async findDelivery(tenantId: string, webhookId: string, id: string): Promise<DeliveryRow | null> {
    const rows = await this.db.query<DeliveryRow[]>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2 AND id = $3`,
      [tenantId, webhookId, id],
    );
    return rows[0] ?? null;
  }

  async deliveryForSend(tenantId: string, id: string): Promise<DeliveryForSend | null> {
    const rows = await this.db.query<DeliveryForSend[]>(
      `SELECT d.*, w.url, w.secret_ciphertext, w.status AS webhook_status
       FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
       WHERE d.tenant_id = $1 AND d.id = $2`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  }

  async recordAttempt(
    id: string,
    outcome: {
      status: DeliveryRow['status'];
      responseStatus: number | null;
      responseTimeMs: number | null;
      error: string | null;
    },
  ): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, response_status = $3,
         response_time_ms = $4, last_error = $5, last_attempt_at = now(),
         delivered_at = CASE WHEN $2 = 'DELIVERED' THEN now() ELSE delivered_at END
       WHERE id = $1`,
      [id, outcome.status, outcome.responseStatus, outcome.responseTimeMs, outcome.error],
    );
  }

  async setDeliveryStatus(id: string, status: DeliveryRow['status'], error: string | null): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = $2, last_error = COALESCE($3, last_error) WHERE id = $1`,
      [id, status, error],
    );
  }

  /** A delivery succeeded: the endpoint is healthy (and active again if it had been disabled). */
  async markHealthy(webhookId: string): Promise<void> {
    await this.db.query(
      `UPDATE webhooks SET failing_since = NULL, status = 'ACTIVE', disabled_reason = NULL, disabled_at = NULL
       WHERE id = $1 AND (failing_since IS NOT NULL OR status <> 'ACTIVE')`,
      [webhookId],
    );
  }

  /**
   * A delivery failed. Starts the failing period if none is running; when it has lasted longer
   * than `disableAfterHours`, disables the endpoint. Returns true when this call disabled it.
   */
  async markFailing(webhookId: string, disableAfterHours: number, reason: string): Promise<boolean> {
    const [rows] = await this.db.query<[{ status: string }[], number]>(
      `UPDATE webhooks SET failing_since = COALESCE(failing_since, now()),
         status = CASE WHEN failing_since < now() - make_interval(secs => $2 * 3600) THEN 'DISABLED' ELSE status END,
         disabled_at = CASE WHEN status = 'ACTIVE' AND failing_since < now() - make_interval(secs => $2 * 3600)
           THEN now() ELSE disabled_at END,
         disabled_reason = CASE WHEN status = 'ACTIVE' AND failing_since < now() - make_interval(secs => $2 * 3600)
           THEN $3 ELSE disabled_reason END
       WHERE id = $1
       RETURNING (status = 'DISABLED' AND disabled_at >= now()) AS newly_disabled, status`,
      [webhookId, disableAfterHours, reason],
    );
    return Boolean((rows[0] as { newly_disabled?: boolean } | undefined)?.newly_disabled);
  }

  /** Pending deliveries of a disabled webhook are not sent any more. */
  async cancelPending(webhookId: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'CANCELLED', last_error = COALESCE(last_error, 'webhook disabled')
       WHERE webhook_id = $1 AND status IN ('PENDING', 'RETRYING')`,
      [webhookId],
    );
  }
}
