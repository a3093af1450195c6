import { verify as jwtVerify, decode as jwtDecode } from 'jsonwebtoken';
import { FakeGoogle, startFakeGoogle } from './support/fake-google';
import {
  createCampaign,
  createWalletConfiguration,
  linkPath,
  makeLinks,
  sharedPki,
  WalletFixture,
} from './support/fixtures';
import { checkPkpass } from './support/pkpass';
import { expectNoSecrets, startTestApp, TestApp } from './support/test-app';

const SAVE_URL = 'https://pay.example.test/gp/v/save';

describe('issuing passes from links (e2e)', () => {
  let t: TestApp;
  let google: FakeGoogle;
  let key: string;
  let cfg: WalletFixture;
  let campaignId: string;

  beforeAll(async () => {
    google = await startFakeGoogle();
    t = await startTestApp({
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      GOOGLE_SAVE_URL: SAVE_URL,
      GOOGLE_REQUEST_TIMEOUT_MS: '700',
      PUBLIC_BASE_URL: 'https://wallet.example.test',
    });
    key = (await t.createTenant()).apiKey;
    cfg = await createWalletConfiguration(t, key, { google: true, registerWith: google });
    campaignId = (await createCampaign(t, key, cfg.id)).id;
  });
  afterAll(async () => {
    await t.close();
    await google.close();
  });

  const contact = { id: 'c-1', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' };

  it('signs an Apple pass that openssl verifies, with personalised values', async () => {
    const [url] = await makeLinks(t, key, [
      {
        campaignId,
        platform: 'APPLE',
        contact,
        voucher: { code: 'SUMMER-001', value: '10%', title: 'Ten off' },
      },
    ]);
    expect(url!.startsWith('https://wallet.example.test/api/pass/create/')).toBe(true);
    const res = await t.request('GET', linkPath(url!));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.pkpass');
    expect(res.headers.get('last-modified')).toMatch(/GMT$/);
    const { passJson, files } = await checkPkpass(res.raw, sharedPki().rootFile);
    expect(Object.keys(files).sort()).toEqual([
      'icon.png',
      'logo.png',
      'manifest.json',
      'pass.json',
      'signature',
    ]);
    expect(passJson).toMatchObject({
      formatVersion: 1,
      passTypeIdentifier: cfg.pass.passTypeIdentifier,
      teamIdentifier: cfg.pass.teamIdentifier,
      organizationName: 'Acme',
      webServiceURL: 'https://wallet.example.test',
      backgroundColor: 'rgb(30, 136, 229)',
      foregroundColor: 'rgb(255, 255, 255)',
      barcodes: [
        {
          format: 'PKBarcodeFormatQR',
          message: 'SUMMER-001',
          altText: 'SUMMER-001',
          messageEncoding: 'iso-8859-1',
        },
      ],
    });
    expect(passJson.authenticationToken.length).toBeGreaterThanOrEqual(32);
    expect(passJson.coupon.headerFields[0]).toMatchObject({ key: 'value', value: '10%' });
    expect(passJson.coupon.primaryFields[0]).toMatchObject({ key: 'offer', value: 'Ten off' });
    expect(passJson.coupon.secondaryFields[0]).toMatchObject({ value: 'Ada Lovelace' });
    const row = await t.db.query(
      'SELECT serial_number, authentication_token, apple_issued_at FROM passes WHERE serial_number = $1',
      [passJson.serialNumber],
    );
    expect(row.rows[0].authentication_token).toBe(passJson.authenticationToken);
    expect(row.rows[0].apple_issued_at).not.toBeNull();
  });

  it('fills defaults and uses the default icon when the campaign has none', async () => {
    const c = await createCampaign(t, key, cfg.id, { images: undefined });
    const [url] = await makeLinks(t, key, [{ campaignId: c.id, platform: 'APPLE', contact: { id: 'x' } }]);
    const res = await t.request('GET', linkPath(url!));
    expect(res.status).toBe(200);
    const { passJson, files } = await checkPkpass(res.raw, sharedPki().rootFile);
    expect(files['icon.png']).toBeDefined();
    expect(passJson.coupon.primaryFields[0].value).toBe('Summer deal');
    expect(passJson.coupon.secondaryFields[0].value).toBe(' ');
  });

  it('gives the same pass for the same link and for another link with the same voucher code', async () => {
    const voucher = { code: 'SAME-1', value: '5%' };
    const [a, b] = await makeLinks(t, key, [
      { campaignId, platform: 'APPLE', contact, voucher },
      { campaignId, platform: 'APPLE', contact: { id: 'someone-else' }, voucher },
    ]);
    const serials = new Set<string>();
    for (const url of [a!, a!, b!]) {
      const res = await t.request('GET', linkPath(url));
      expect(res.status).toBe(200);
      serials.add(res.headers.get('x-pass-serial')!);
    }
    expect(serials.size).toBe(1);
    const rows = await t.db.query(`SELECT count(*)::int AS n FROM passes WHERE identity = 'v:SAME-1'`);
    expect(rows.rows[0].n).toBe(1);
  });

  it('creates exactly one pass for 50 concurrent taps of one link', async () => {
    const [url] = await makeLinks(t, key, [
      { campaignId, platform: 'APPLE', contact: { id: 'conc' }, voucher: { code: 'CONC-50' } },
    ]);
    const results = await Promise.all(Array.from({ length: 50 }, () => t.request('GET', linkPath(url!))));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(new Set(results.map((r) => r.headers.get('x-pass-serial'))).size).toBe(1);
    const rows = await t.db.query(`SELECT count(*)::int AS n FROM passes WHERE identity = 'v:CONC-50'`);
    expect(rows.rows[0].n).toBe(1);
  });

  it('writes the Google object and redirects to a save link that names it', async () => {
    const [url] = await makeLinks(t, key, [
      { campaignId, platform: 'GOOGLE', contact, voucher: { code: 'G-1', value: '20%' } },
    ]);
    const res = await t.request('GET', linkPath(url!));
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location.startsWith(`${SAVE_URL}/`)).toBe(true);
    expect(location.length).toBeLessThan(1800);
    const jwt = location.slice(SAVE_URL.length + 1);
    const claims = jwtVerify(jwt, cfg.serviceAccount.publicKeyPem, { algorithms: ['RS256'] }) as Record<
      string,
      any
    >;
    expect(claims).toMatchObject({
      iss: cfg.serviceAccount.key.client_email,
      aud: 'google',
      typ: 'savetowallet',
    });
    const ref = claims.payload.offerObjects[0];
    const stored = google.objects.get(ref.id);
    expect(stored).toBeDefined();
    expect(stored!.classId).toBe(ref.classId);
    expect(stored).toMatchObject({ state: 'ACTIVE', barcode: { type: 'QR_CODE', value: 'G-1' } });
    expect(JSON.stringify(stored!.textModulesData)).toContain('20%');

    const inserts = () =>
      google.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/offerObject')).length;
    const before = inserts();
    const again = await t.request('GET', linkPath(url!));
    expect(again.status).toBe(302);
    const claims2 = jwtDecode(again.headers.get('location')!.slice(SAVE_URL.length + 1)) as Record<
      string,
      any
    >;
    expect(claims2.payload.offerObjects[0].id).toBe(ref.id);
    expect(inserts()).toBe(before);
    expect([...google.objects.keys()].filter((id) => id === ref.id)).toHaveLength(1);
  });

  it('answers 503 quickly while Google is down, and the next tap works', async () => {
    const [url] = await makeLinks(t, key, [
      { campaignId, platform: 'GOOGLE', contact, voucher: { code: 'G-DOWN' } },
    ]);
    google.setOutage(true);
    try {
      const started = Date.now();
      const res = await t.request('GET', linkPath(url!));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('GOOGLE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      google.setOutage(false);
    }
    const ok = await t.request('GET', linkPath(url!));
    expect(ok.status).toBe(302);
  });

  it('answers each broken link with its own 4xx, as HTML for browsers', async () => {
    const [good] = await makeLinks(t, key, [{ campaignId, platform: 'APPLE', contact: { id: 'e1' } }]);
    const path = linkPath(good!);
    const token = path.split('/').pop()!;
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.ct.id = 'forged';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect((await t.request('GET', `/api/pass/create/${tampered}`)).status).toBe(401);
    expect((await t.request('GET', `/api/pass/create/not-a-token`)).status).toBe(400);
    const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'gone' })).toString('base64url')}.${p}.${s}`;
    const kidRes = await t.request('GET', `/api/pass/create/${unknownKid}`);
    expect(kidRes.status).toBe(401);
    expect(kidRes.body.error.code).toBe('LINK_KEY_UNKNOWN');

    const [missing] = await makeLinks(t, key, [
      { campaignId: '00000000-0000-4000-8000-000000000000', platform: 'APPLE', contact: { id: 'x' } },
    ]);
    expect((await t.request('GET', linkPath(missing!))).status).toBe(404);

    const appleOnly = await createWalletConfiguration(t, key, { google: false });
    const c2 = await createCampaign(t, key, appleOnly.id);
    const [noGoogle] = await makeLinks(t, key, [
      { campaignId: c2.id, platform: 'GOOGLE', contact: { id: 'x' } },
    ]);
    const ng = await t.request('GET', linkPath(noGoogle!));
    expect(ng.status).toBe(422);
    expect(ng.body.error.code).toBe('PLATFORM_NOT_CONFIGURED');

    const ended = await createCampaign(t, key, cfg.id);
    const [endedLink] = await makeLinks(t, key, [
      { campaignId: ended.id, platform: 'APPLE', contact: { id: 'x' } },
    ]);
    await t.request('DELETE', `/api/v1/campaigns/${ended.id}`, { token: key });
    const gone = await t.request('GET', linkPath(endedLink!));
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('CAMPAIGN_ENDED');
    const html = await t.request('GET', linkPath(endedLink!), {
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(html.status).toBe(410);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.text).toContain('This offer has ended');

    const otherTenant = await t.createTenant('Other');
    const [foreign] = await makeLinks(t, otherTenant.apiKey, [
      { campaignId, platform: 'APPLE', contact: { id: 'x' } },
    ]);
    expect((await t.request('GET', linkPath(foreign!))).status).toBe(404);
  });

  it('expires links by expiresAt and by the campaign link lifetime', async () => {
    const [soon] = await makeLinks(t, key, [
      {
        campaignId,
        platform: 'APPLE',
        contact: { id: 'exp' },
        expiresAt: new Date(Date.now() + 1500).toISOString(),
      },
    ]);
    expect((await t.request('GET', linkPath(soon!))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await t.request('GET', linkPath(soon!));
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('LINK_EXPIRED');

    const short = await createCampaign(t, key, cfg.id, { linkTtlSeconds: 60 });
    const [link] = await makeLinks(t, key, [
      { campaignId: short.id, platform: 'APPLE', contact: { id: 'ttl' } },
    ]);
    expect((await t.request('GET', linkPath(link!))).status).toBe(200);
    await t.db.query('UPDATE campaigns SET link_ttl_seconds = 1 WHERE id = $1', [short.id]);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await t.request('GET', linkPath(link!))).status).toBe(401);
  });

  it('leaks no secret in responses or logs', async () => {
    expectNoSecrets(t.logs.text());
  });
});
