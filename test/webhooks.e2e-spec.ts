import { LookupAddress } from 'node:dns';
import { WebhookResolver } from '../src/integrations/webhooks/webhook-http.client';
import { createCampaign, createWalletConfiguration, linkPath, makeLinks } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';
import { eventually } from './support/wallet-device';
import { readmeVerifier, startWebhookReceiver, WebhookReceiver } from './support/webhook-receiver';

const verify = readmeVerifier();

describe('webhooks (e2e)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let key: string;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_BASE_MS: '150' });
    key = (await t.createTenant()).apiKey;
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function register(events: string[], url = receiver.url) {
    const res = await t.request('POST', '/api/v1/webhooks', { token: key, body: { url, events } });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string; url: string; events: string[] };
  }

  function deliveries(id: string, token = key) {
    return t.request('GET', `/api/v1/webhooks/${id}/deliveries`, { token });
  }

  it('registers an endpoint, shows the secret once and stores it encrypted', async () => {
    const hook = await register(['pass.issued']);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    expect(hook.events).toEqual(['pass.issued']);
    const list = await t.request('GET', '/api/v1/webhooks', { token: key });
    expect(list.status).toBe(200);
    const item = list.body.items.find((w: { id: string }) => w.id === hook.id);
    expect(item).toMatchObject({ url: receiver.url, events: ['pass.issued'], status: 'ACTIVE' });
    expect(list.text).not.toContain(hook.secret);
    const row = await t.db.query(`SELECT secret_ciphertext FROM webhooks WHERE id = $1`, [hook.id]);
    expect(row.rows[0].secret_ciphertext).not.toContain(hook.secret.slice(6));
    expect(t.logs.text()).not.toContain(hook.secret);
  });

  it('answers 400 naming the field for bad URLs and unknown events', async () => {
    const cases = [
      { url: 'ftp://example.com/x', events: ['pass.issued'], field: 'url' },
      { url: 'not a url', events: ['pass.issued'], field: 'url' },
      { url: 'http://user:pw@127.0.0.1/x', events: ['pass.issued'], field: 'url' },
      { url: receiver.url, events: ['pass.exploded'], field: 'events' },
      { url: receiver.url, events: [], field: 'events' },
    ];
    for (const c of cases) {
      const res = await t.request('POST', '/api/v1/webhooks', {
        token: key,
        body: { url: c.url, events: c.events },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.fields.map((f: { field: string }) => f.field)).toContain(c.field);
    }
  });

  it('sends a signed ping that verifies with the README recipe, and logs the delivery', async () => {
    const hook = await register(['pass.removed']);
    const res = await t.request('POST', `/api/v1/webhooks/${hook.id}/test`, { token: key });
    expect(res.status).toBe(202);
    const deliveryId = res.body.id as string;
    const got = await eventually(
      async () => receiver.received.find((r) => r.json.id === res.body.eventId),
      (x) => x !== undefined,
    );
    expect(got).toBeDefined();
    expect(got!.json.type).toBe('ping');
    const header = String(got!.headers['wallet-signature']);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(hook.secret, header, got!.body)).toBe(true);
    expect(verify(hook.secret, header, got!.body.replace('ping', 'pong'))).toBe(false);
    expect(verify('whsec_wrong', header, got!.body)).toBe(false);
    const log = await eventually(
      () => deliveries(hook.id),
      (r) => r.body.items?.[0]?.status === 'DELIVERED',
    );
    expect(log.body.items[0]).toMatchObject({
      id: deliveryId,
      type: 'ping',
      status: 'DELIVERED',
      attempts: 1,
      responseStatus: 200,
    });
    expect(typeof log.body.items[0].responseTimeMs).toBe('number');
  });

  it('retries a failing receiver with backoff until it accepts; the receiver sees the event once after dedupe', async () => {
    // Its own tenant and receiver: no other endpoint hears these events.
    const own = await startWebhookReceiver();
    const outer = key;
    key = (await t.createTenant('Retries')).apiKey;
    try {
      const hook = await register(['pass.issued'], own.url);
      const cfg = await createWalletConfiguration(t, key);
      const campaign = await createCampaign(t, key, cfg.id);
      own.failNext = 2;
      const before = 0;
      const receiver = own;
      const [url] = await makeLinks(t, key, [
        { campaignId: campaign.id, platform: 'APPLE', contact: { id: 'c-1' }, voucher: { code: 'WH-1' } },
      ]);
      const issued = await t.request('GET', linkPath(url!));
      expect(issued.status).toBe(200);
      // The same link again is the same pass: no second pass.issued.
      expect((await t.request('GET', linkPath(url!))).status).toBe(200);

      const log = await eventually(
        () => deliveries(hook.id),
        (r) => r.body.items?.[0]?.status === 'DELIVERED',
        20000,
      );
      expect(log.body.items).toHaveLength(1);
      expect(log.body.items[0]).toMatchObject({
        type: 'pass.issued',
        status: 'DELIVERED',
        attempts: 3,
        responseStatus: 200,
      });
      const mine = receiver.received.slice(before).filter((r) => r.json.type === 'pass.issued');
      expect(mine.map((r) => r.answered)).toEqual([500, 500, 200]);
      expect(new Set(mine.map((r) => r.json.id)).size).toBe(1);
      const event = receiver.accepted.get(mine[0]!.json.id)!;
      expect(event.json.data).toMatchObject({ campaignId: campaign.id, platform: 'APPLE' });
      expect(typeof event.json.data.serialNumber).toBe('string');
      for (const r of mine)
        expect(verify(hook.secret, String(r.headers['wallet-signature']), r.body)).toBe(true);

      // Manual redelivery: a new delivery of the same event (same id, same body).
      const redo = await t.request(
        'POST',
        `/api/v1/webhooks/${hook.id}/deliveries/${log.body.items[0].id}/redeliver`,
        { token: key },
      );
      expect(redo.status).toBe(202);
      expect(redo.body.redeliveryOf).toBe(log.body.items[0].id);
      const again = await eventually(
        async () =>
          receiver.received.slice(before).filter((r) => r.json.id === event.json.id && r.answered === 200),
        (x) => x.length === 2,
      );
      expect(again).toHaveLength(2);
      expect(again[1]!.body).toBe(again[0]!.body);
      expect(receiver.accepted.get(event.json.id)).toBe(event);
      const after = await eventually(
        () => deliveries(hook.id),
        (r) =>
          r.body.items?.length === 2 &&
          r.body.items.every((d: { status: string }) => d.status === 'DELIVERED'),
      );
      expect(after.body.total).toBe(2);
    } finally {
      key = outer;
      await own.close();
    }
  });

  it('disables an endpoint whose deliveries have failed for days and says so', async () => {
    const failing = await startWebhookReceiver();
    failing.alwaysStatus = 503;
    try {
      const hook = await register(['pass.updated'], failing.url);
      await t.db.query(`UPDATE webhooks SET failing_since = now() - interval '4 days' WHERE id = $1`, [
        hook.id,
      ]);
      await t.request('POST', `/api/v1/webhooks/${hook.id}/test`, { token: key });
      const list = await eventually(
        () => t.request('GET', '/api/v1/webhooks', { token: key }),
        (r) => r.body.items.find((w: { id: string }) => w.id === hook.id)?.status === 'DISABLED',
      );
      const item = list.body.items.find((w: { id: string }) => w.id === hook.id);
      expect(item.status).toBe('DISABLED');
      expect(item.disabledReason).toMatch(/failed for more than 72 hours/);
      expect(t.logs.text()).toContain('webhook disabled');
      expect(failing.received.length).toBeGreaterThanOrEqual(1);
    } finally {
      await failing.close();
    }
  });

  it("keeps tenants apart: another tenant's webhook is 404 everywhere", async () => {
    const hook = await register(['pass.issued']);
    const other = (await t.createTenant('Other')).apiKey;
    expect((await deliveries(hook.id, other)).status).toBe(404);
    expect((await t.request('POST', `/api/v1/webhooks/${hook.id}/test`, { token: other })).status).toBe(404);
    expect((await t.request('DELETE', `/api/v1/webhooks/${hook.id}`, { token: other })).status).toBe(404);
    const list = await t.request('GET', '/api/v1/webhooks', { token: other });
    expect(list.body.items).toEqual([]);
    expect((await t.request('DELETE', `/api/v1/webhooks/${hook.id}`, { token: key })).status).toBe(204);
    expect((await deliveries(hook.id)).status).toBe(404);
  });
});

describe('webhook targets on private addresses (e2e)', () => {
  let t: TestApp;
  let key: string;
  const answers = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_RETRY_BASE_MS: '100000' });
    key = (await t.createTenant()).apiKey;
    const resolver = t.app.get(WebhookResolver);
    const real = resolver.resolve.bind(resolver);
    jest.spyOn(resolver, 'resolve').mockImplementation(async (host: string): Promise<LookupAddress[]> => {
      const a = answers.get(host);
      if (a) return [{ address: a, family: a.includes(':') ? 6 : 4 }];
      return real(host);
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    'http://127.0.0.1:9/x',
    'http://[::1]/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://169.254.169.254/latest/meta-data',
    'http://10.1.2.3/x',
    'http://[fd00::1]/x',
    'http://localhost/x',
    'http://internal.hooks.test/x',
  ])('refuses %s at registration', async (url) => {
    answers.set('internal.hooks.test', '192.168.10.20');
    const res = await t.request('POST', '/api/v1/webhooks', {
      token: key,
      body: { url, events: ['pass.issued'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields[0].field).toBe('url');
  });

  it('refuses at delivery time when the DNS answer has moved to a private address', async () => {
    answers.set('hooks.acme.test', '93.184.216.34');
    const res = await t.request('POST', '/api/v1/webhooks', {
      token: key,
      body: { url: 'http://hooks.acme.test/wallet', events: ['pass.issued'] },
    });
    expect(res.status).toBe(201);
    answers.set('hooks.acme.test', '127.0.0.1');
    const ping = await t.request('POST', `/api/v1/webhooks/${res.body.id}/test`, { token: key });
    expect(ping.status).toBe(202);
    const log = await eventually(
      () => t.request('GET', `/api/v1/webhooks/${res.body.id}/deliveries`, { token: key }),
      (r) => r.body.items?.[0]?.attempts >= 1,
    );
    expect(log.body.items[0]).toMatchObject({ status: 'RETRYING', responseStatus: null });
    expect(log.body.items[0].lastError).toMatch(/target refused: the host resolves to a loopback address/);
  });
});
