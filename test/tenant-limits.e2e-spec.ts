import { randomUUID } from 'node:crypto';
import { createTenantWithAdmin, signIn } from './support/session';
import { startTestApp, TestApp } from './support/test-app';

const items = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    campaignId: randomUUID(),
    platform: 'APPLE',
    contact: { id: `c-${i}` },
  }));

describe('per-tenant limits (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TENANT_RATE_LIMIT_LINK_URLS: '10', TENANT_RATE_LIMIT_API: '5' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts the URLs of /pers/v1/urls per tenant: 429 with Retry-After beyond, others unaffected', async () => {
    const a = await t.createTenant('Busy links');
    const b = await t.createTenant('Quiet links');
    const first = await t.request('POST', '/pers/v1/urls', { token: a.apiKey, body: { requests: items(6) } });
    expect(first.status).toBe(200);
    expect(first.body.urls).toHaveLength(6);
    const over = await t.request('POST', '/pers/v1/urls', { token: a.apiKey, body: { requests: items(5) } });
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ code: 'RATE_LIMITED', correlationId: expect.any(String) });
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Refused batches count too: a client that retries before Retry-After stays refused.
    expect(
      (await t.request('POST', '/pers/v1/urls', { token: a.apiKey, body: { requests: items(1) } })).status,
    ).toBe(429);
    const other = await t.request('POST', '/pers/v1/urls', {
      token: b.apiKey,
      body: { requests: items(10) },
    });
    expect(other.status).toBe(200);
    expect(other.body.urls).toHaveLength(10);
    // Links and the management API are counted apart.
    expect((await t.request('GET', '/api/v1/campaigns', { token: a.apiKey })).status).toBe(200);
  });

  it('counts management API requests per tenant, however the tenant authenticated', async () => {
    const a = await createTenantWithAdmin(t, 'Busy API');
    const b = await t.createTenant('Quiet API');
    const session = await signIn(t, a.email, a.password);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await t.request('GET', '/api/v1/campaigns', { token: a.apiKey })).status);
    for (let i = 0; i < 2; i++) statuses.push((await session.request('GET', '/api/v1/campaigns')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const viaKey = await t.request('GET', '/api/v1/wallet-configurations', { token: a.apiKey });
    expect(viaKey.status).toBe(429);
    expect(Number(viaKey.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await session.request('GET', '/api/v1/campaigns')).status).toBe(429);
    expect((await t.request('GET', '/api/v1/campaigns', { token: b.apiKey })).status).toBe(200);
    // Unauthenticated requests are refused as such, not counted against anyone.
    expect((await t.request('GET', '/api/v1/campaigns', { token: 'wsk_not-a-key' })).status).toBe(401);
    expect((await t.request('GET', '/health')).status).toBe(200);
  });
});
