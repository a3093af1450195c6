import { ADMIN_TOKEN, startTestApp, TestApp } from './support/test-app';

describe('tenants and API keys (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates a tenant with the admin token and shows its key once', async () => {
    const res = await t.request('POST', '/api/v1/tenants', { token: ADMIN_TOKEN, body: { name: 'Acme' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'Acme',
      apiKey: expect.stringMatching(/^wsk_/),
    });
    const stored = await t.db.query('SELECT secret_hash, lookup_id FROM api_keys WHERE tenant_id = $1', [
      res.body.id,
    ]);
    expect(stored.rows).toHaveLength(1);
    expect(res.body.apiKey).not.toContain(stored.rows[0].secret_hash.toString('hex'));
    const list = await t.request('GET', '/api/v1/api-keys', { token: res.body.apiKey });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(res.body.apiKey);
    expect(list.body.items[0].prefix).toBe(`wsk_${stored.rows[0].lookup_id}`);
  });

  it('refuses tenant creation without, or with a wrong, admin token', async () => {
    expect((await t.request('POST', '/api/v1/tenants', { body: { name: 'x' } })).status).toBe(401);
    const wrong = await t.request('POST', '/api/v1/tenants', {
      token: 'not-the-admin-token-xxxxxxxx',
      body: { name: 'x' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('UNAUTHORIZED');
    const tenantKey = (await t.createTenant()).apiKey;
    expect(
      (await t.request('POST', '/api/v1/tenants', { token: tenantKey, body: { name: 'x' } })).status,
    ).toBe(401);
  });

  it('validates the tenant name', async () => {
    const res = await t.request('POST', '/api/v1/tenants', { token: ADMIN_TOKEN, body: { name: '' } });
    expect(res.status).toBe(400);
    expect(res.body.error.fields[0].field).toBe('name');
    const extra = await t.request('POST', '/api/v1/tenants', {
      token: ADMIN_TOKEN,
      body: { name: 'a', admin: true },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain('admin');
    const badJson = await t.request('POST', '/api/v1/tenants', {
      token: ADMIN_TOKEN,
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.message).toMatch(/JSON/);
  });

  it('requires an API key on every /api/v1 route', async () => {
    for (const path of ['/api/v1/api-keys', '/api/v1/wallet-configurations', '/api/v1/campaigns']) {
      const res = await t.request('GET', path);
      expect(res.status).toBe(401);
      expect((await t.request('GET', path, { token: 'wsk_aaaaaaaaaaaaaaaa_' + 'b'.repeat(43) })).status).toBe(
        401,
      );
    }
  });

  it('creates, lists and revokes keys; a revoked key answers 401 at once', async () => {
    const tenant = await t.createTenant();
    const created = await t.request('POST', '/api/v1/api-keys', {
      token: tenant.apiKey,
      body: { name: 'second' },
    });
    expect(created.status).toBe(201);
    const second = created.body.apiKey as string;
    expect((await t.request('GET', '/api/v1/api-keys', { token: second })).status).toBe(200);
    const list = await t.request('GET', '/api/v1/api-keys?limit=1&offset=1', { token: tenant.apiKey });
    expect(list.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].name).toBe('second');

    const revoke = await t.request('DELETE', `/api/v1/api-keys/${created.body.id}`, { token: tenant.apiKey });
    expect(revoke.status).toBe(204);
    expect((await t.request('GET', '/api/v1/api-keys', { token: second })).status).toBe(401);
    expect((await t.request('GET', '/api/v1/api-keys', { token: tenant.apiKey })).status).toBe(200);
  });

  it("answers 404 for another tenant's key and 400 for a malformed id", async () => {
    const a = await t.createTenant('A');
    const b = await t.createTenant('B');
    const keys = await t.request('GET', '/api/v1/api-keys', { token: a.apiKey });
    const aKeyId = keys.body.items[0].id as string;
    const res = await t.request('DELETE', `/api/v1/api-keys/${aKeyId}`, { token: b.apiKey });
    expect(res.status).toBe(404);
    expect((await t.request('GET', '/api/v1/api-keys', { token: a.apiKey })).status).toBe(200);
    const bad = await t.request('DELETE', '/api/v1/api-keys/not-a-uuid', { token: b.apiKey });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('id');
  });

  it('validates pagination parameters', async () => {
    const tenant = await t.createTenant();
    const res = await t.request('GET', '/api/v1/api-keys?limit=0', { token: tenant.apiKey });
    expect(res.status).toBe(400);
    expect(res.body.error.fields[0].field).toBe('limit');
  });
});

describe('operations endpoints (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers /health with its status only, and the details to the platform admin', async () => {
    const res = await t.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect((await t.request('GET', '/health/details')).status).toBe(401);
    const tenantKey = (await t.createTenant('Curious')).apiKey;
    expect((await t.request('GET', '/health/details', { token: tenantKey })).status).toBe(401);
    const details = await t.request('GET', '/health/details', { token: ADMIN_TOKEN });
    expect(details.status).toBe(200);
    expect(details.body.status).toBe('ok');
    expect(details.body.components.database.status).toBe('ok');
    expect(details.body.components.redis.status).toBe('ok');
    expect(details.body.components.walletConfigurations).toMatchObject({ status: 'ok', items: [] });
  });

  it('writes one access-log line per request with its request id, route pattern and tenant', async () => {
    const { apiKey, id } = await t.createTenant('Logged');
    const res = await t.request('GET', '/api/v1/campaigns?limit=5', { token: apiKey });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const lines = t.logs.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.reqId === requestId);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'request completed',
        method: 'GET',
        route: '/api/v1/campaigns',
        status: 200,
        tenantId: id,
        service: 'wallet-service',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(apiKey);
  });

  it('exposes Prometheus metrics with request counts', async () => {
    await t.request('GET', '/health');
    const res = await t.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
    expect(res.text).toContain('http_request_duration_seconds_bucket');
  });

  it('serves the OpenAPI document and UI', async () => {
    const doc = await t.request('GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.paths['/api/v1/tenants']).toBeDefined();
    const ui = await t.request('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
    const asset = await t.request('GET', '/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await t.request('GET', '/docs/assets/..%2Fpackage.json')).status).toBe(404);
  });

  it('echoes a correlation id and answers unknown routes with 404 JSON', async () => {
    const res = await t.request('GET', '/nope', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });
});
