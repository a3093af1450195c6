import { randomBytes, randomUUID } from 'node:crypto';
import { createCampaign, createWalletConfiguration, linkPath } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

function decodeToken(url: string): { header: any; payload: any } {
  const token = url.split('/').pop()!;
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString()),
  };
}

describe('link generation (e2e)', () => {
  const oldKey = `old:${randomBytes(32).toString('base64url')}`;
  const newKey = `new:${randomBytes(32).toString('base64url')}`;
  let t: TestApp;
  let key: string;
  let tenantId: string;
  let campaignId: string;

  beforeAll(async () => {
    t = await startTestApp({ LINK_SIGNING_KEYS: oldKey, LINK_BATCH_LIMIT: '1000' });
    const tenant = await t.createTenant();
    key = tenant.apiKey;
    tenantId = tenant.id;
    const cfg = await createWalletConfiguration(t, key);
    campaignId = (await createCampaign(t, key, cfg.id)).id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers one entry per request, in order, with per-item errors in place', async () => {
    const res = await t.request('POST', '/pers/v1/urls', {
      token: key,
      body: {
        requests: [
          {
            campaignId,
            platform: 'APPLE',
            contact: { id: 'c-1', firstName: 'Ada' },
            voucher: { code: 'S-1', value: '10%' },
          },
          { campaignId, platform: 'FAX', contact: { id: 'c-2' } },
          { platform: 'GOOGLE', contact: { id: 'c-3' } },
          { campaignId, platform: 'GOOGLE', contact: 'not an object' },
          { campaignId, platform: 'GOOGLE', contact: { id: 'c-5' }, voucher: { code: 'S-5' } },
        ],
      },
    });
    expect(res.status).toBe(200);
    const urls = res.body.urls as any[];
    expect(urls).toHaveLength(5);
    expect(urls[0].url).toMatch(/\/api\/pass\/create\/[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(urls[1].error).toMatchObject({
      code: 'INVALID_PLATFORM',
      message: expect.stringContaining('platform'),
    });
    expect(urls[2].error).toMatchObject({ code: 'MISSING_CAMPAIGN_ID' });
    expect(urls[3].error).toMatchObject({ code: 'INVALID_CONTACT' });
    expect(urls[4].url).toEqual(expect.any(String));
    const first = decodeToken(urls[0].url);
    expect(first.header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'old' });
    expect(first.payload).toMatchObject({
      t: tenantId,
      c: campaignId,
      p: 'A',
      ct: { id: 'c-1', firstName: 'Ada' },
      v: { code: 'S-1', value: '10%' },
    });
    expect(decodeToken(urls[4].url).payload.p).toBe('G');
    expect(urls[0].url.length).toBeLessThan(2000);
  });

  it('rejects bodies that are not batches, and batches over the limit', async () => {
    const notArray = await t.request('POST', '/pers/v1/urls', { token: key, body: { requests: 'x' } });
    expect(notArray.status).toBe(400);
    expect(notArray.body.error.message).toContain('requests');
    const item = { campaignId, platform: 'APPLE', contact: { id: 'c' } };
    const tooMany = await t.request('POST', '/pers/v1/urls', {
      token: key,
      body: { requests: Array(1001).fill(item) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('BATCH_TOO_LARGE');
    const full = await t.request('POST', '/pers/v1/urls', {
      token: key,
      body: { requests: Array(1000).fill(item) },
    });
    expect(full.status).toBe(200);
    expect(full.body.urls).toHaveLength(1000);
  });

  it('needs an API key; a revoked key stops working at once despite the cache', async () => {
    const item = { campaignId, platform: 'APPLE', contact: { id: 'c' } };
    expect((await t.request('POST', '/pers/v1/urls', { body: { requests: [item] } })).status).toBe(401);
    const created = await t.request('POST', '/api/v1/api-keys', { token: key, body: { name: 'pers' } });
    const persKey = created.body.apiKey as string;
    expect(
      (await t.request('POST', '/pers/v1/urls', { token: persKey, body: { requests: [item] } })).status,
    ).toBe(200);
    await t.request('DELETE', `/api/v1/api-keys/${created.body.id}`, { token: key });
    expect(
      (await t.request('POST', '/pers/v1/urls', { token: persKey, body: { requests: [item] } })).status,
    ).toBe(401);
  });

  it('does not read the database: an unknown campaign still gets a link, which fails when used', async () => {
    const res = await t.request('POST', '/pers/v1/urls', {
      token: key,
      body: { requests: [{ campaignId: randomUUID(), platform: 'APPLE', contact: { id: 'c' } }] },
    });
    expect(res.body.urls[0].url).toEqual(expect.any(String));
    expect((await t.request('GET', linkPath(res.body.urls[0].url))).status).toBe(404);
  });

  it('rotates keys: links of the previous key keep working, links of a removed key do not', async () => {
    const res = await t.request('POST', '/pers/v1/urls', {
      token: key,
      body: {
        requests: [{ campaignId, platform: 'APPLE', contact: { id: 'rot' }, voucher: { code: 'ROT-1' } }],
      },
    });
    const oldLink = linkPath(res.body.urls[0].url);
    expect((await t.request('GET', oldLink)).status).toBe(200);

    // A second replica on the same database after rotation: the new key signs, both verify.
    const rotated = await startTestApp(
      { LINK_SIGNING_KEYS: `${newKey},${oldKey}`, SECRETS_ENCRYPTION_KEY: t.env.SECRETS_ENCRYPTION_KEY! },
      t.dbName,
    );
    try {
      const fresh = await rotated.request('POST', '/pers/v1/urls', {
        token: key,
        body: { requests: [{ campaignId, platform: 'APPLE', contact: { id: 'rot2' } }] },
      });
      expect(decodeToken(fresh.body.urls[0].url).header.kid).toBe('new');
      expect((await rotated.request('GET', oldLink)).status).toBe(200);
      expect((await rotated.request('GET', linkPath(fresh.body.urls[0].url))).status).toBe(200);
    } finally {
      await rotated.close();
    }
    // After the old key is removed its links answer 401.
    const removed = await startTestApp(
      { LINK_SIGNING_KEYS: newKey, SECRETS_ENCRYPTION_KEY: t.env.SECRETS_ENCRYPTION_KEY! },
      t.dbName,
    );
    try {
      const res2 = await removed.request('GET', oldLink);
      expect(res2.status).toBe(401);
      expect(res2.body.error.code).toBe('LINK_KEY_UNKNOWN');
    } finally {
      await removed.close();
    }
  });
});
