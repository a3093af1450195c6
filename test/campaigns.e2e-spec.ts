import { startFakeGoogle, FakeGoogle } from './support/fake-google';
import { campaignBody, createCampaign, createWalletConfiguration, makePng } from './support/fixtures';
import { expectNoSecrets, startTestApp, TestApp } from './support/test-app';

describe('campaigns (e2e)', () => {
  let t: TestApp;
  let google: FakeGoogle;
  let key: string;
  let configId: string;

  beforeAll(async () => {
    google = await startFakeGoogle();
    t = await startTestApp({
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      GOOGLE_REQUEST_TIMEOUT_MS: '800',
    });
    key = (await t.createTenant()).apiKey;
    configId = (await createWalletConfiguration(t, key, { google: true, registerWith: google })).id;
  });
  afterAll(async () => {
    await t.close();
    await google.close();
  });

  it('creates a campaign, its images and its Google class', async () => {
    const res = await t.request('POST', '/api/v1/campaigns', { token: key, body: campaignBody(configId) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Summer voucher',
      passStyle: 'coupon',
      status: 'active',
      walletConfigurationId: configId,
    });
    expect(res.body.google).toEqual({
      classId: expect.stringMatching(/^\d+\.[A-Za-z0-9._-]+$/),
      syncStatus: 'SYNCED',
      lastError: null,
    });
    const cls = google.classes.get(res.body.google.classId);
    expect(cls).toBeDefined();
    expect(cls).toMatchObject({ issuerName: 'Acme', reviewStatus: 'UNDER_REVIEW' });
    expect(JSON.stringify(cls)).toContain(`/api/assets/${res.body.id}/logo.png`);
    expect(Object.keys(res.body.images).sort()).toEqual(['icon', 'logo']);

    const img = await t.request('GET', new URL(res.body.images.logo).pathname);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(img.headers.get('cache-control')).toContain('max-age');
    expect(img.raw.equals(makePng(160, 50))).toBe(true);
    const cached = await t.request('GET', new URL(res.body.images.logo).pathname, {
      headers: { 'if-none-match': img.headers.get('etag')! },
    });
    expect(cached.status).toBe(304);
  });

  it('serves a default icon for a campaign without one and 404 for missing images', async () => {
    const c = await createCampaign(t, key, configId, { images: undefined });
    expect(c.images).toEqual({});
    const icon = await t.request('GET', `/api/assets/${c.id}/icon.png`);
    expect(icon.status).toBe(200);
    expect(icon.raw.subarray(1, 4).toString()).toBe('PNG');
    expect((await t.request('GET', `/api/assets/${c.id}/strip.png`)).status).toBe(404);
    expect((await t.request('GET', `/api/assets/${c.id}/evil.png`)).status).toBe(404);
    expect((await t.request('GET', `/api/assets/not-a-uuid/icon.png`)).status).toBe(404);
  });

  it('keeps the campaign PENDING while Google is down, with the error visible', async () => {
    google.setOutage(true);
    try {
      const started = Date.now();
      const res = await t.request('POST', '/api/v1/campaigns', { token: key, body: campaignBody(configId) });
      expect(res.status).toBe(201);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(res.body.google.syncStatus).toBe('PENDING');
      expect(res.body.google.lastError).toEqual(expect.any(String));
      const outbox = await t.db.query(`SELECT topic, payload FROM outbox WHERE payload->>'campaignId' = $1`, [
        res.body.id,
      ]);
      expect(outbox.rows.map((r) => r.topic)).toContain('google.class.sync');
    } finally {
      google.setOutage(false);
    }
  });

  it('retries a PENDING class in the background until it is SYNCED', async () => {
    google.setOutage(true);
    let id: string;
    try {
      const res = await t.request('POST', '/api/v1/campaigns', { token: key, body: campaignBody(configId) });
      expect(res.body.google.syncStatus).toBe('PENDING');
      id = res.body.id;
    } finally {
      google.setOutage(false);
    }
    const deadline = Date.now() + 20000;
    let status = 'PENDING';
    let classId = '';
    while (Date.now() < deadline && status !== 'SYNCED') {
      await new Promise((r) => setTimeout(r, 250));
      const got = await t.request('GET', `/api/v1/campaigns/${id}`, { token: key });
      status = got.body.google.syncStatus;
      classId = got.body.google.classId;
    }
    expect(status).toBe('SYNCED');
    expect(google.classes.has(classId)).toBe(true);
  });

  it('marks the class FAILED with the error when Google refuses the credentials', async () => {
    // A service account Google does not know: the token request is refused, which no retry fixes.
    const unknown = await createWalletConfiguration(t, key, { google: true });
    const res = await t.request('POST', '/api/v1/campaigns', { token: key, body: campaignBody(unknown.id) });
    expect(res.status).toBe(201);
    expect(res.body.google.syncStatus).toBe('FAILED');
    expect(res.body.google.lastError).toMatch(/401|invalid_client|token/i);
    expectNoSecrets(res.text);
    await new Promise((r) => setTimeout(r, 1000));
    const later = await t.request('GET', `/api/v1/campaigns/${res.body.id}`, { token: key });
    expect(later.body.google.syncStatus).toBe('FAILED');
  });

  it('validates every field with a 400 naming it', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ passStyle: 'boardingPass' }, 'passStyle'],
      [{ walletConfigurationId: 'nope' }, 'walletConfigurationId'],
      [{ name: '' }, 'name'],
      [
        { template: { ...campaignBody(configId).template, backgroundColor: 'blue' } },
        'template.backgroundColor',
      ],
      [
        { template: { ...campaignBody(configId).template, barcode: { format: 'EAN', message: 'x' } } },
        'template.barcode.format',
      ],
      [
        { template: { ...campaignBody(configId).template, primaryFields: [{ key: '1bad', value: 'x' }] } },
        'template.primaryFields.0.key',
      ],
      [
        {
          template: {
            ...campaignBody(configId).template,
            secondaryFields: [{ key: 'n', value: 'Hi {{contact.}}' }],
          },
        },
        'template.secondaryFields[0].value',
      ],
      [
        { template: { ...campaignBody(configId).template, backFields: [{ key: 'offer', value: 'dup' }] } },
        'template.backFields[0].key',
      ],
      [
        {
          template: {
            ...campaignBody(configId).template,
            primaryFields: [{ key: 'a', value: 'x', changeMessage: 'no placeholder' }],
          },
        },
        'template.primaryFields.0.changeMessage',
      ],
      [{ images: { icon: Buffer.from('GIF89a not a png').toString('base64') } }, 'images.icon'],
      [{ images: { icon: '***' } }, 'images.icon'],
      [{ images: { poster: makePng().toString('base64') } }, 'images.poster'],
      [{ images: { strip: Buffer.alloc(1100 * 1024, 1).toString('base64') } }, 'images.strip'],
      [{ linkTtlSeconds: 5 }, 'linkTtlSeconds'],
      [{ extra: true }, 'extra'],
    ];
    for (const [override, field] of cases) {
      const res = await t.request('POST', '/api/v1/campaigns', {
        token: key,
        body: campaignBody(configId, override),
      });
      expect({ field, status: res.status }).toEqual({ field, status: 400 });
      const named = JSON.stringify(res.body.error);
      expect({ field, named: named.includes(field) }).toEqual({ field, named: true });
    }
    const truncated = makePng(40, 40).subarray(0, 60);
    const res = await t.request('POST', '/api/v1/campaigns', {
      token: key,
      body: campaignBody(configId, { images: { logo: truncated.toString('base64') } }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_IMAGE');
  });

  it("refuses another tenant's wallet configuration and hides campaigns across tenants", async () => {
    const other = await t.createTenant('Other');
    const res = await t.request('POST', '/api/v1/campaigns', {
      token: other.apiKey,
      body: campaignBody(configId),
    });
    expect(res.status).toBe(404);
    expect(res.body.error.fields[0].field).toBe('walletConfigurationId');
    const mine = await createCampaign(t, key, configId);
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const r = await t.request(method, `/api/v1/campaigns/${mine.id}`, { token: other.apiKey, body });
      expect(r.status).toBe(404);
    }
    const list = await t.request('GET', '/api/v1/campaigns', { token: other.apiKey });
    expect(list.body.total).toBe(0);
    expect((await t.request('GET', `/api/v1/campaigns/${mine.id}`, { token: key })).status).toBe(200);
  });

  it('lists with pagination, patches template and images, and ends campaigns', async () => {
    const tenant = await t.createTenant();
    const cfg = await createWalletConfiguration(t, tenant.apiKey, { google: true, registerWith: google });
    const a = await createCampaign(t, tenant.apiKey, cfg.id, { name: 'A' });
    await createCampaign(t, tenant.apiKey, cfg.id, { name: 'B' });
    const page1 = await t.request('GET', '/api/v1/campaigns?limit=1', { token: tenant.apiKey });
    expect(page1.body).toMatchObject({ total: 2, limit: 1, offset: 0 });
    expect(page1.body.items).toHaveLength(1);

    const template = {
      ...campaignBody(cfg.id).template,
      description: 'Autumn voucher',
      backgroundColor: '#112233',
    };
    const patched = await t.request('PATCH', `/api/v1/campaigns/${a.id}`, {
      token: tenant.apiKey,
      body: { template, images: { strip: makePng(375, 144).toString('base64'), logo: null } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.contentVersion).toBe(2);
    expect(patched.body.template.description).toBe('Autumn voucher');
    expect(Object.keys(patched.body.images).sort()).toEqual(['icon', 'strip']);
    // The class is patched by the worker through the outbox, not inside the request.
    let synced = patched.body.google.syncStatus as string;
    for (let deadline = Date.now() + 20000; synced !== 'SYNCED' && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
      synced = (await t.request('GET', `/api/v1/campaigns/${a.id}`, { token: tenant.apiKey })).body.google
        .syncStatus;
    }
    expect(synced).toBe('SYNCED');
    expect(google.classes.get(a.google!.classId)).toMatchObject({ hexBackgroundColor: '#112233' });

    const renamed = await t.request('PATCH', `/api/v1/campaigns/${a.id}`, {
      token: tenant.apiKey,
      body: { name: 'A2' },
    });
    expect(renamed.body).toMatchObject({ name: 'A2', contentVersion: 2 });

    const ended = await t.request('DELETE', `/api/v1/campaigns/${a.id}`, { token: tenant.apiKey });
    expect(ended.status).toBe(200);
    expect(ended.body.status).toBe('ended');
    expect(ended.body.endedAt).toEqual(expect.any(String));
    const afterEnd = await t.request('PATCH', `/api/v1/campaigns/${a.id}`, {
      token: tenant.apiKey,
      body: { name: 'x' },
    });
    expect(afterEnd.status).toBe(410);
  });

  it('never answers or logs secrets', async () => {
    const list = await t.request('GET', '/api/v1/campaigns', { token: key });
    expectNoSecrets(list.text);
    expectNoSecrets(t.logs.text());
  });
});
