import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SecretBox } from '../src/integrations/crypto/secret-box';
import { LinkTokenCodec } from '../src/modules/links/link-token';
import { secretAad } from '../src/modules/wallet-configurations/wallet-configurations.service';
import { FakeGoogle, startFakeGoogle } from './support/fake-google';
import {
  createCampaign,
  createWalletConfiguration,
  linkPath,
  makeLinks,
  WalletFixture,
} from './support/fixtures';
import { HttpResult, startTestApp, TestApp } from './support/test-app';

/** The error body every refusal has, naming `field`. */
function expectFieldError(res: HttpResult, field: string | RegExp, status = 400): void {
  expect({ status: res.status, body: res.body }).toMatchObject({
    status,
    body: {
      error: { code: expect.any(String), message: expect.any(String), correlationId: expect.any(String) },
    },
  });
  const fields = (res.body.error.fields ?? []) as { field: string; message: string }[];
  expect(fields.map((f) => f.field)).toContainEqual(
    typeof field === 'string' ? field : expect.stringMatching(field),
  );
}

function nested(depth: number): string {
  return '{"name":' + '['.repeat(depth) + '1' + ']'.repeat(depth) + '}';
}

describe('input policy: hostile input answers 4xx naming the field (e2e)', () => {
  let t: TestApp;
  let google: FakeGoogle;
  let key: string;
  let tenantId: string;
  let cfg: WalletFixture;
  let campaignId: string;

  beforeAll(async () => {
    google = await startFakeGoogle();
    t = await startTestApp({
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      GOOGLE_SAVE_URL: 'https://pay.example.test/gp/v/save',
      GOOGLE_REQUEST_TIMEOUT_MS: '2000',
    });
    const tenant = await t.createTenant();
    key = tenant.apiKey;
    tenantId = tenant.id;
    cfg = await createWalletConfiguration(t, key, { google: true, registerWith: google });
    campaignId = (await createCampaign(t, key, cfg.id)).id;
  });
  afterAll(async () => {
    await t.close();
    await google.close();
  });

  it('refuses NUL and lone surrogates in JSON fields, naming the field path', async () => {
    const nul = await t.request('POST', '/api/v1/api-keys', {
      token: key,
      body: '{"name":"evil\\u0000key"}',
      headers: { 'content-type': 'application/json' },
    });
    expectFieldError(nul, 'name');
    expect(nul.body.error.message).toContain('NUL');

    const surrogate = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: '{"template":{"organizationName":"A","description":"d","primaryFields":[{"key":"k","value":"x\\ud800y"}]}}',
      headers: { 'content-type': 'application/json' },
    });
    expectFieldError(surrogate, 'template.primaryFields[0].value');
    expect(surrogate.body.error.message).toContain('surrogate');

    const badKey = await t.request('POST', '/api/v1/api-keys', {
      token: key,
      body: '{"na\\udc00me":"x"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.message).toContain('property name');

    // A well-formed pair (an emoji written as escapes) is fine.
    const emoji = await t.request('POST', '/api/v1/api-keys', {
      token: key,
      body: '{"name":"key \\ud83d\\ude00"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(emoji.status).toBe(201);
    expect(emoji.body.name).toBe('key \u{1F600}');
  });

  it('refuses NUL in path segments and query strings', async () => {
    const path = await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/abc%00def`, {
      token: key,
      body: { voucher: { value: 'x' } },
    });
    expectFieldError(path, 'serialNumber');

    const query = await t.request('GET', '/api/v1/campaigns?limit=5&name=a%00b', { token: key });
    expectFieldError(query, 'name');

    const link = await t.request('GET', '/api/pass/create/abc%00def');
    expectFieldError(link, 'jwt');

    const device = await t.request('GET', '/v1/devices/dev%00ice/registrations/pass.com.example');
    expect(device.status).toBeGreaterThanOrEqual(400);
    expect(device.status).toBeLessThan(500);
  });

  it('refuses JSON nested deeper than JSON_MAX_DEPTH with a 400, thousands of levels included', async () => {
    for (const depth of [40, 5000, 100_000]) {
      const started = Date.now();
      const res = await t.request('POST', '/api/v1/api-keys', {
        token: key,
        body: nested(depth),
        headers: { 'content-type': 'application/json' },
      });
      expectFieldError(res, /^name(\[0\])+$/);
      expect(res.body.error.message).toContain('deeper than 32 levels');
      expect(Date.now() - started).toBeLessThan(5000);
    }
    // Within the limit the DTO decides (here: name must be a string).
    const shallow = await t.request('POST', '/api/v1/api-keys', {
      token: key,
      body: nested(3),
      headers: { 'content-type': 'application/json' },
    });
    expectFieldError(shallow, 'name');
  });

  it('refuses __proto__ and constructor.prototype keys, malformed and empty JSON, and non-object bodies', async () => {
    const proto = await t.request('POST', '/api/v1/api-keys', {
      token: key,
      body: '{"name":"x","__proto__":{"admin":true}}',
      headers: { 'content-type': 'application/json' },
    });
    expectFieldError(proto, '__proto__');
    const ctor = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: '{"images":{"constructor":{"prototype":{"x":1}}}}',
      headers: { 'content-type': 'application/json' },
    });
    expectFieldError(ctor, 'images.constructor.prototype');
    const malformed = await t.request('POST', '/api/v1/api-keys', {
      token: key,
      body: '{"name": "x",',
      headers: { 'content-type': 'application/json' },
    });
    expectFieldError(malformed, 'body');
    const empty = await t.request('POST', '/api/v1/api-keys', {
      token: key,
      body: ' ',
      headers: { 'content-type': 'application/json' },
    });
    expectFieldError(empty, 'body');
    // A streamed upload type (bulk updates) on a route that expects JSON: 415, not a stream in a DTO.
    for (const type of ['application/x-ndjson', 'text/csv']) {
      const streamed = await t.request('POST', '/api/v1/api-keys', {
        token: key,
        body: '-2147483649',
        headers: { 'content-type': type },
      });
      expect({ type, status: streamed.status }).toEqual({ type, status: 415 });
      expect(streamed.body.error.code).toEqual(expect.any(String));
    }
    const array = await t.request('POST', '/api/v1/api-keys', { token: key, body: [1, 2] });
    expect(array.status).toBe(400);
    expect(array.body.error.fields.length).toBeGreaterThan(0);
  });

  it('keeps offset and limit within bounds (a 400, not a database error)', async () => {
    for (const q of [
      'offset=99999999999',
      'offset=2147483648',
      'offset=-1',
      'limit=1e400',
      'limit=NaN',
      'offset=1.5',
    ]) {
      const res = await t.request('GET', `/api/v1/campaigns?${q}`, { token: key });
      expectFieldError(res, q.split('=')[0]!);
    }
    const passes = await t.request('GET', `/api/v1/campaigns/${campaignId}/passes?offset=9999999999999`, {
      token: key,
    });
    expectFieldError(passes, 'offset');
    const ok = await t.request('GET', '/api/v1/campaigns?offset=1000000&limit=200', { token: key });
    expect(ok.status).toBe(200);
    expect(ok.body.items).toEqual([]);
  });

  it('holds campaign updates to the bounds of campaign creation (linkTtlSeconds)', async () => {
    for (const linkTtlSeconds of [1e12, 2 ** 31, 59, 1.5]) {
      const created = await t.request('POST', '/api/v1/campaigns', {
        token: key,
        body: {
          name: 'x',
          walletConfigurationId: cfg.id,
          passStyle: 'coupon',
          template: { organizationName: 'A', description: 'd' },
          linkTtlSeconds,
        },
      });
      expectFieldError(created, 'linkTtlSeconds');
      const updated = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
        token: key,
        body: { linkTtlSeconds },
      });
      expectFieldError(updated, 'linkTtlSeconds');
    }
    const fine = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: { linkTtlSeconds: 10 * 365 * 24 * 3600 },
    });
    expect(fine.status).toBe(200);
    const cleared = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: { linkTtlSeconds: null },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.linkTtlSeconds).toBeNull();
  });

  it('answers 404 for prototype-named static assets', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const docs = await t.request('GET', `/docs/assets/${name}`);
      expect({ name, status: docs.status }).toEqual({ name, status: 404 });
      const image = await t.request('GET', `/api/assets/${campaignId}/${name}.png`);
      expect({ name, status: image.status }).toEqual({ name, status: 404 });
      expect(image.body.error.code).toBe('IMAGE_NOT_FOUND');
    }
    const real = await t.request('GET', '/docs/assets/swagger-ui.css');
    expect(real.status).toBe(200);
  });

  it('gives link items with NUL or lone surrogates their own error slot, and signs the others', async () => {
    const res = await t.request('POST', '/pers/v1/urls', {
      token: key,
      body:
        '{"requests":[' +
        `{"campaignId":"${campaignId}","platform":"APPLE","contact":{"id":"c-1","firstName":"A\\u0000da"}},` +
        `{"campaignId":"${campaignId}","platform":"APPLE","contact":{"id":"c-2"},"voucher":{"code":"V\\ud800"}},` +
        `{"campaignId":"${campaignId}","platform":"APPLE","contact":{"id":"c-3","na\\u0000me":"x"}},` +
        `{"campaignId":"${campaignId}","platform":"APPLE","contact":{"id":"c-4","firstName":"\\ud83d\\ude00"}}` +
        ']}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const urls = res.body.urls as { url?: string; error?: { code: string; message: string } }[];
    expect(urls[0]!.error).toMatchObject({
      code: 'INVALID_CONTACT',
      message: expect.stringContaining('requests[0].contact.firstName'),
    });
    expect(urls[1]!.error).toMatchObject({
      code: 'INVALID_VOUCHER',
      message: expect.stringContaining('requests[1].voucher.code'),
    });
    expect(urls[2]!.error).toMatchObject({
      code: 'INVALID_CONTACT',
      message: expect.stringContaining('property name'),
    });
    expect(urls[3]!.url).toEqual(expect.any(String));
    const tapped = await t.request('GET', linkPath(urls[3]!.url!));
    expect(tapped.status).toBe(200);
    // Nesting is still limited on this route.
    const deep = await t.request('POST', '/pers/v1/urls', {
      token: key,
      body: `{"requests":[${'['.repeat(3000)}${']'.repeat(3000)}]}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(deep.status).toBe(400);
  });

  it('issues passes from old links whose data carries NUL or lone surrogates (U+FFFD), the same pass on every tap', async () => {
    // A link signed before the text policy existed, with the service's own key.
    const codec = new LinkTokenCodec(t.config.linkSigningKeys);
    const token = codec.sign({
      tenantId,
      campaignId,
      platform: 'APPLE',
      contact: { id: 'c-old', firstName: 'A\u0000da', ['bad\uD800key']: 'x' },
      voucher: { code: 'OLD\uDC00-1' },
    });
    const first = await t.request('GET', `/api/pass/create/${token}`);
    expect(first.status).toBe(200);
    const again = await t.request('GET', `/api/pass/create/${token}`);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-pass-serial')).toBe(first.headers.get('x-pass-serial'));
    const { rows } = await t.db.query<{ data: any }>(
      'SELECT data FROM passes WHERE tenant_id = $1 AND serial_number = $2',
      [tenantId, first.headers.get('x-pass-serial')],
    );
    expect(rows[0]!.data).toEqual({
      contact: { id: 'c-old', firstName: 'A\uFFFDda', ['bad\uFFFDkey']: 'x' },
      voucher: { code: 'OLD\uFFFD-1' },
    });
  });

  it('refuses a Google service-account key shorter than 2048 bits, and an old stored one answers 422 on tap', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const shortKey = {
      ...cfg.serviceAccount.key,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const refused = await t.request('POST', '/api/v1/wallet-configurations', {
      token: key,
      body: { name: 'short', google: { issuerId: '3388000000012345678', serviceAccountKey: shortKey } },
    });
    expectFieldError(refused, 'google.serviceAccountKey.private_key');
    expect(refused.body.error.message).toContain('1024-bit');
    expect(refused.text).not.toContain('PRIVATE KEY');

    // A configuration stored before the check: put the short key in place of the good one.
    const google2 = await createWalletConfiguration(t, key, { google: true, registerWith: google });
    const box = new SecretBox(t.config.secretsEncryptionKeys);
    await t.db.query(
      'UPDATE wallet_configurations SET google_service_account_enc = $2, version = version + 1 WHERE id = $1',
      [google2.id, box.encrypt(JSON.stringify(shortKey), secretAad(google2.id, 'google-service-account'))],
    );
    const campaign = await createCampaign(t, key, google2.id);
    const [url] = await makeLinks(t, key, [
      { campaignId: campaign.id, platform: 'GOOGLE', contact: { id: randomUUID() } },
    ]);
    const tap = await t.request('GET', linkPath(url!));
    expect(tap.status).toBe(422);
    expect(tap.body.error.code).toBe('PLATFORM_NOT_CONFIGURED');
    expect(tap.text).not.toContain('PRIVATE KEY');
  });
});
