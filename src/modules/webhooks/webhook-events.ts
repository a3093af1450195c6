/** Every event a webhook can subscribe to. `ping` is only sent by the test route. */
export const WEBHOOK_EVENTS = [
  'pass.issued',
  'pass.installed',
  'pass.removed',
  'pass.updated',
  'push.failed',
  'campaign.update.completed',
  'credentials.expiring',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export type WalletPlatform = 'APPLE' | 'GOOGLE';

/** What an event says; `campaignId`, `serialNumber` and `platform` where they apply. */
export interface WebhookEventData {
  campaignId?: string;
  serialNumber?: string;
  platform?: WalletPlatform;
  [key: string]: unknown;
}

/** The JSON body of a delivery. Its `id` is the event's: receivers dedupe by it. */
export function webhookBody(
  id: string,
  type: WebhookEventType | 'ping',
  createdAt: Date,
  data: WebhookEventData,
): string {
  return JSON.stringify({ id, type, createdAt: createdAt.toISOString(), data });
}
