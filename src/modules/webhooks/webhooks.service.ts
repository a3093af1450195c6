import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../../common/errors';
import { Page } from '../../common/pagination/pagination';
import { SecretEncryptionService } from '../../integrations/crypto/secret-box';
import { WebhookHttpClient } from '../../integrations/webhooks/webhook-http.client';
import { OutboxService } from '../outbox/outbox.service';
import { WebhookEventData, WebhookEventType, webhookBody } from './webhook-events';
import { DeliveryRow, WebhookRow, WebhooksRepository } from './webhooks.repository';

export const MAX_WEBHOOKS_PER_TENANT = 20;

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  status: 'ACTIVE' | 'DISABLED';
  disabledReason: string | null;
  disabledAt: string | null;
  failingSince: string | null;
  createdAt: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: DeliveryRow['status'];
  attempts: number;
  responseStatus: number | null;
  responseTimeMs: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  redeliveryOf: string | null;
  createdAt: string;
}

export function secretAad(webhookId: string): string {
  return `webhook:${webhookId}:secret`;
}

/**
 * Tenants' webhook endpoints, and the one way events enter them: `emit`, called in the
 * transaction that records the fact, writes a delivery per subscribed endpoint and an outbox
 * row per delivery, so the event commits (or not) with the fact and survives a Redis outage.
 */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly repo: WebhooksRepository,
    private readonly outbox: OutboxService,
    private readonly box: SecretEncryptionService,
    private readonly http: WebhookHttpClient,
  ) {}

  async create(
    tenantId: string,
    input: { url: string; events: string[] },
  ): Promise<WebhookView & { secret: string }> {
    const url = await this.checkUrl(input.url);
    const existing = await this.repo.list(tenantId);
    if (existing.length >= MAX_WEBHOOKS_PER_TENANT) {
      throw DomainError.validation(
        'url',
        `a tenant may register at most ${MAX_WEBHOOKS_PER_TENANT} webhooks`,
      );
    }
    const id = randomUUID();
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const row = await this.repo.create({
      id,
      tenantId,
      url: url.href,
      events: [...new Set(input.events)],
      secretCiphertext: this.box.encrypt(secret, secretAad(id)),
    });
    return { ...toView(row), secret };
  }

  async list(tenantId: string): Promise<WebhookView[]> {
    return (await this.repo.list(tenantId)).map(toView);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    if (!(await this.repo.remove(tenantId, id))) throw DomainError.notFound('WEBHOOK_NOT_FOUND', 'Webhook');
  }

  /** Records an event for every subscribed endpoint of the tenant, inside the caller's transaction. */
  async emit(
    m: EntityManager,
    tenantId: string,
    type: WebhookEventType,
    data: WebhookEventData,
  ): Promise<void> {
    const eventId = randomUUID();
    const body = webhookBody(eventId, type, new Date(), data);
    const ids = await this.repo.insertEventDeliveries(m, tenantId, eventId, type, body);
    for (const deliveryId of ids)
      await this.outbox.add(m, tenantId, 'webhook.deliver', { tenantId, deliveryId });
  }

  /** Same as `emit`, in a transaction of its own (for facts that are not written in one). */
  async emitNow(tenantId: string, type: WebhookEventType, data: WebhookEventData): Promise<void> {
    await this.db.transaction((m) => this.emit(m, tenantId, type, data));
  }

  /** Queues a `ping` event to one endpoint, whatever it subscribed to. */
  async ping(tenantId: string, webhookId: string): Promise<DeliveryView> {
    const hook = await this.findOrThrow(tenantId, webhookId);
    const eventId = randomUUID();
    const body = webhookBody(eventId, 'ping', new Date(), { webhookId: hook.id });
    return this.enqueue(tenantId, hook.id, eventId, 'ping', body);
  }

  async deliveries(
    tenantId: string,
    webhookId: string,
    limit: number,
    offset: number,
  ): Promise<Page<DeliveryView>> {
    await this.findOrThrow(tenantId, webhookId);
    const { rows, total } = await this.repo.listDeliveries(tenantId, webhookId, limit, offset);
    return { items: rows.map(toDeliveryView), total, limit, offset };
  }

  /** Sends a delivery's event again (same event id and body) as a new delivery. */
  async redeliver(tenantId: string, webhookId: string, deliveryId: string): Promise<DeliveryView> {
    await this.findOrThrow(tenantId, webhookId);
    const original = await this.repo.findDelivery(tenantId, webhookId, deliveryId);
    if (!original) throw DomainError.notFound('WEBHOOK_DELIVERY_NOT_FOUND', 'Delivery');
    return this.enqueue(
      tenantId,
      webhookId,
      original.event_id,
      original.event_type,
      original.body,
      original.id,
    );
  }

  private async enqueue(
    tenantId: string,
    webhookId: string,
    eventId: string,
    type: string,
    body: string,
    redeliveryOf?: string,
  ): Promise<DeliveryView> {
    const row = await this.db.transaction(async (m) => {
      const d = await this.repo.insertDelivery(m, { tenantId, webhookId, eventId, type, body, redeliveryOf });
      await this.outbox.add(m, tenantId, 'webhook.deliver', { tenantId, deliveryId: d.id });
      return d;
    });
    return toDeliveryView(row);
  }

  private async findOrThrow(tenantId: string, id: string): Promise<WebhookRow> {
    const row = await this.repo.find(tenantId, id);
    if (!row) throw DomainError.notFound('WEBHOOK_NOT_FOUND', 'Webhook');
    return row;
  }

  private async checkUrl(raw: string): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw DomainError.validation('url', 'must be an absolute http or https URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw DomainError.validation('url', 'must be an http or https URL');
    }
    if (url.username || url.password) throw DomainError.validation('url', 'must not contain credentials');
    const target = await this.http.vet(url);
    if (!target.ok) throw DomainError.validation('url', target.reason);
    return url;
  }
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function toView(r: WebhookRow): WebhookView {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    status: r.status,
    disabledReason: r.disabled_reason,
    disabledAt: iso(r.disabled_at),
    failingSince: iso(r.failing_since),
    createdAt: r.created_at.toISOString(),
  };
}

function toDeliveryView(r: DeliveryRow): DeliveryView {
  return {
    id: r.id,
    eventId: r.event_id,
    type: r.event_type,
    status: r.status,
    attempts: r.attempts,
    responseStatus: r.response_status,
    responseTimeMs: r.response_time_ms,
    lastError: r.last_error,
    lastAttemptAt: iso(r.last_attempt_at),
    deliveredAt: iso(r.delivered_at),
    redeliveryOf: r.redelivery_of,
    createdAt: r.created_at.toISOString(),
  };
}
