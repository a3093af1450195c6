import { apnsEnv, startApns } from './support/apns';
import { FakeApns } from './support/fake-apns';
import { FakeGoogle, startFakeGoogle } from './support/fake-google';
import {
  createCampaign,
  createWalletConfiguration,
  campaignBody,
  linkPath,
  makeLinks,
  sharedPki,
  WalletFixture,
} from './support/fixtures';
import { checkPkpass } from './support/pkpass';
import { ADMIN_TOKEN, startTestApp, TestApp } from './support/test-app';
import {
  eventually,
  fetchPass,
  install,
  InstalledPass,
  listSerials,
  newDeviceId,
  newPushToken,
  register,
} from './support/wallet-device';

describe('pass updates and pushes (e2e)', () => {
  let t: TestApp;
  let apns: FakeApns;
  let google: FakeGoogle;
  let key: string;
  let cfg: WalletFixture;
  let campaignId: string;
  let n = 0;

  beforeAll(async () => {
    apns = await startApns();
    google = await startFakeGoogle();
    t = await startTestApp({
      ...apnsEnv(apns),
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      OUTBOX_POLL_MS: '100',
    });
    key = (await t.createTenant()).apiKey;
    cfg = await createWalletConfiguration(t, key, { google: true, registerWith: google });
    campaignId = (await createCampaign(t, key, cfg.id)).id;
  });
  afterAll(async () => {
    await t.close();
    await apns.close();
    await google.close();
  });

  async function installed(campaign = campaignId): Promise<InstalledPass> {
    const [url] = await makeLinks(t, key, [
      {
        campaignId: campaign,
        platform: 'APPLE',
        contact: { id: `c${++n}`, firstName: 'Ada' },
        voucher: { code: `V-${n}-${Date.now()}`, value: '10%' },
      },
    ]);
    return install(t, url!, sharedPki().rootFile);
  }
  const pushesTo = (token: string) => apns.pushes.filter((p) => p.token === token);

  it('PATCH of a pass pushes its device, lists the serial as updated and serves the new content', async () => {
    const pass = await installed();
    const device = newDeviceId();
    const token = newPushToken();
    expect((await register(t, device, pass, token)).status).toBe(201);
    const first = await listSerials(t, device, pass.passTypeIdentifier);
    const tag = first.body.lastUpdated as string;

    const res = await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}`, {
      token: key,
      body: { voucher: { value: '25%' } },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.voucher).toMatchObject({ value: '25%' });

    const pushes = await eventually(
      async () => pushesTo(token),
      (p) => p.length > 0,
    );
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatchObject({ topic: pass.passTypeIdentifier, body: '{}', status: 200 });
    expect(JSON.stringify(pushes[0]!.clientCertSubject)).toContain(pass.passTypeIdentifier);

    const listed = await listSerials(t, device, pass.passTypeIdentifier, tag);
    expect(listed.status).toBe(200);
    expect(listed.body.serialNumbers).toEqual([pass.serialNumber]);
    const fresh = await fetchPass(t, pass);
    const { passJson } = await checkPkpass(fresh.raw, sharedPki().rootFile);
    expect(passJson.coupon.headerFields[0].value).toBe('25%');
    await new Promise((r) => setTimeout(r, 500));
    expect(pushesTo(token)).toHaveLength(1);
  });

  it('validates PATCH bodies and hides passes across tenants', async () => {
    const pass = await installed();
    const bad = await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}`, {
      token: key,
      body: { voucher: { value: { nested: 1 } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('voucher');
    const empty = await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}`, {
      token: key,
      body: {},
    });
    expect(empty.status).toBe(400);
    const missing = await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/nope`, {
      token: key,
      body: { voucher: { value: '1' } },
    });
    expect(missing.status).toBe(404);
    const other = await t.createTenant('Other');
    const foreign = await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}`, {
      token: other.apiKey,
      body: { voucher: { value: '1' } },
    });
    expect(foreign.status).toBe(404);
    expect(
      (await t.request('GET', `/api/v1/campaigns/${campaignId}/stats`, { token: other.apiKey })).status,
    ).toBe(404);
  });

  it('a campaign PATCH pushes every registered device once and reports progress', async () => {
    const c = await createCampaign(t, key, cfg.id);
    const a = await installed(c.id);
    const b = await installed(c.id);
    const tokens = [newPushToken(), newPushToken(), newPushToken()];
    await register(t, newDeviceId(), a, tokens[0]!);
    await register(t, newDeviceId(), b, tokens[1]!);
    // One device holding both passes: one push token, pushed once.
    const both = newDeviceId();
    await register(t, both, a, tokens[2]!);
    await register(t, both, b, tokens[2]!);

    const template = { ...campaignBody(cfg.id).template, description: 'Autumn' };
    const res = await t.request('PATCH', `/api/v1/campaigns/${c.id}`, { token: key, body: { template } });
    expect(res.status).toBe(200);
    expect(res.body.updateId).toEqual(expect.any(String));
    const progress = await eventually(
      async () =>
        (await t.request('GET', `/api/v1/campaigns/${c.id}/updates/${res.body.updateId}`, { token: key }))
          .body,
      (u) => u.status === 'DONE',
    );
    expect(progress).toMatchObject({ status: 'DONE', total: 3, sent: 3, failed: 0, done: 3 });
    for (const token of tokens) expect(pushesTo(token)).toHaveLength(1);

    const stats = await t.request('GET', `/api/v1/campaigns/${c.id}/stats`, { token: key });
    expect(stats.body).toMatchObject({
      passes: { apple: 2, total: 2 },
      appleDevicesRegistered: 3,
      pushes: { sent: 3, failed: 0, pending: 0 },
    });
    const list = await t.request('GET', `/api/v1/campaigns/${c.id}/passes`, { token: key });
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((p: any) => p.registeredDevices).sort()).toEqual([2, 2]);
  });

  it('410 Unregistered removes the registration; BadDeviceToken too', async () => {
    for (const response of [
      { status: 410, reason: 'Unregistered' },
      { status: 400, reason: 'BadDeviceToken' },
    ]) {
      const pass = await installed();
      const device = newDeviceId();
      const token = newPushToken();
      await register(t, device, pass, token);
      apns.respondWith(token, response);
      await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}`, {
        token: key,
        body: { voucher: { value: 'x' } },
      });
      const gone = await eventually(
        () => listSerials(t, device, pass.passTypeIdentifier),
        (r) => r.status === 204,
      );
      expect(gone.status).toBe(204);
      const rows = await t.db.query('SELECT count(*)::int AS n FROM registrations WHERE push_token = $1', [
        token,
      ]);
      expect(rows.rows[0].n).toBe(0);
    }
  });

  it('429 then 200: the push is retried and delivered once', async () => {
    const pass = await installed();
    const token = newPushToken();
    await register(t, newDeviceId(), pass, token);
    apns.respondWith(token, { status: 429, reason: 'TooManyRequests' }, { status: 200 });
    await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}`, {
      token: key,
      body: { voucher: { value: 'y' } },
    });
    const pushes = await eventually(
      async () => pushesTo(token),
      (p) => p.some((x) => x.status === 200),
    );
    expect(pushes.map((p) => p.status)).toEqual([429, 200]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(pushesTo(token).filter((p) => p.status === 200)).toHaveLength(1);
  });

  it('403 marks the wallet configuration unhealthy instead of deleting anything', async () => {
    const own = await createWalletConfiguration(t, key, { google: false });
    const c = await createCampaign(t, key, own.id);
    const pass = await installed(c.id);
    const device = newDeviceId();
    const token = newPushToken();
    await register(t, device, pass, token);
    apns.respondWith(token, { status: 403, reason: 'BadCertificate' });
    await t.request('PATCH', `/api/v1/campaigns/${c.id}/passes/${pass.serialNumber}`, {
      token: key,
      body: { voucher: { value: 'z' } },
    });
    const cfgRes = await eventually(
      () => t.request('GET', `/api/v1/wallet-configurations/${own.id}`, { token: key }),
      (r) => r.body.apple?.apnsStatus === 'UNHEALTHY',
    );
    expect(cfgRes.body.apple.apnsStatus).toBe('UNHEALTHY');
    expect(cfgRes.body.apple.apnsError).toContain('BadCertificate');
    const health = await t.request('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'degraded' });
    const details = await t.request('GET', '/health/details', { token: ADMIN_TOKEN });
    expect(details.body.components.walletConfigurations.items).toContainEqual(
      expect.objectContaining({ id: own.id, apnsStatus: 'UNHEALTHY' }),
    );
    expect((await listSerials(t, device, pass.passTypeIdentifier)).status).toBe(200);

    // APNs accepts the certificate again (the scripted 403 is used up): the next push heals it.
    await t.request('PATCH', `/api/v1/campaigns/${c.id}/passes/${pass.serialNumber}`, {
      token: key,
      body: { voucher: { value: 'zz' } },
    });
    const healed = await eventually(
      () => t.request('GET', `/api/v1/wallet-configurations/${own.id}`, { token: key }),
      (r) => r.body.apple?.apnsStatus === 'OK',
    );
    expect(healed.body.apple.apnsStatus).toBe('OK');
    expect(pushesTo(token).filter((p) => p.status === 200)).toHaveLength(1);
  });

  it('void marks the Apple pass voided and the Google object INACTIVE', async () => {
    const code = `VOID-${Date.now()}`;
    const [appleUrl, googleUrl] = await makeLinks(t, key, [
      { campaignId, platform: 'APPLE', contact: { id: 'v' }, voucher: { code } },
      { campaignId, platform: 'GOOGLE', contact: { id: 'v' }, voucher: { code } },
    ]);
    const pass = await install(t, appleUrl!, sharedPki().rootFile);
    const token = newPushToken();
    await register(t, newDeviceId(), pass, token);
    expect((await t.request('GET', linkPath(googleUrl!))).status).toBe(302);
    const objectId = (
      await t.db.query('SELECT google_object_id FROM passes WHERE serial_number = $1', [pass.serialNumber])
    ).rows[0].google_object_id;
    expect(google.objects.get(objectId)?.state).toBe('ACTIVE');

    const res = await t.request('POST', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}/void`, {
      token: key,
    });
    expect(res.status).toBe(200);
    expect(res.body.voided).toBe(true);
    await eventually(
      async () => google.objects.get(objectId)?.state,
      (s) => s === 'INACTIVE',
    );
    expect(google.objects.get(objectId)?.state).toBe('INACTIVE');
    await eventually(
      async () => pushesTo(token),
      (p) => p.length > 0,
    );
    expect(pushesTo(token)).toHaveLength(1);
    const { passJson } = await checkPkpass((await fetchPass(t, pass)).raw, sharedPki().rootFile);
    expect(passJson.voided).toBe(true);
  });

  it('a data change patches the Google object', async () => {
    const code = `G-${Date.now()}`;
    const [googleUrl] = await makeLinks(t, key, [
      { campaignId, platform: 'GOOGLE', contact: { id: 'g' }, voucher: { code, value: '5%' } },
    ]);
    expect((await t.request('GET', linkPath(googleUrl!))).status).toBe(302);
    const row = (
      await t.db.query('SELECT serial_number, google_object_id FROM passes WHERE identity = $1', [
        `v:${code}`,
      ])
    ).rows[0];
    await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${row.serial_number}`, {
      token: key,
      body: { voucher: { value: '50%' } },
    });
    const obj = await eventually(
      async () => JSON.stringify(google.objects.get(row.google_object_id)),
      (s) => s.includes('50%'),
    );
    expect(obj).toContain('50%');
  });
});
