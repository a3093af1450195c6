import { apnsEnv, startApns } from './support/apns';
import { FakeApns } from './support/fake-apns';
import {
  campaignBody,
  createCampaign,
  createWalletConfiguration,
  makeLinks,
  sharedPki,
} from './support/fixtures';
import { HttpResult, startTestApp, TestApp } from './support/test-app';
import {
  eventually,
  install,
  InstalledPass,
  newDeviceId,
  newPushToken,
  register,
} from './support/wallet-device';

/** Attempts per push in this file: retries after ~1 s, ~2 s and ~4 s (BullMQ backoff with jitter). */
const ATTEMPTS = 4;

describe('push failures are reported honestly (e2e)', () => {
  let t: TestApp;
  let apns: FakeApns;
  let key: string;
  let cfgId: string;
  let n = 0;

  beforeAll(async () => {
    apns = await startApns();
    t = await startTestApp({
      ...apnsEnv(apns),
      OUTBOX_POLL_MS: '100',
      PUSH_MAX_ATTEMPTS: String(ATTEMPTS),
    });
    key = (await t.createTenant()).apiKey;
    cfgId = (await createWalletConfiguration(t, key)).id;
  });
  afterAll(async () => {
    await t?.close();
    await apns?.close();
  });
  afterEach(() => {
    apns.setUnreachable(false);
  });

  async function installed(campaignId: string): Promise<InstalledPass> {
    const [url] = await makeLinks(t, key, [
      {
        campaignId,
        platform: 'APPLE',
        contact: { id: `c${++n}` },
        voucher: { code: `PFR-${n}-${newDeviceId().slice(0, 8)}`, value: '1' },
      },
    ]);
    return install(t, url!, sharedPki().rootFile);
  }
  const stats = async (campaignId: string) =>
    (await t.request('GET', `/api/v1/campaigns/${campaignId}/stats`, { token: key })).body.pushes as {
      sent: number;
      failed: number;
      pending: number;
    };
  const apnsStatus = async () =>
    (await t.request('GET', `/api/v1/wallet-configurations/${cfgId}`, { token: key })).body.apple as {
      apnsStatus: string;
      apns: { status: string; message: string | null; since: string | null };
    };
  const patch = (campaignId: string, pass: InstalledPass, value: string): Promise<HttpResult> =>
    t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}`, {
      token: key,
      body: { voucher: { value } },
    });
  const registeredDevicesListed = async (campaignId: string, pass: InstalledPass) => {
    const list = await t.request('GET', `/api/v1/campaigns/${campaignId}/passes?limit=200`, { token: key });
    return (list.body.items as { serialNumber: string; registeredDevices: number }[]).find(
      (p) => p.serialNumber === pass.serialNumber,
    )?.registeredDevices;
  };

  it('a pass push is pending while APNs is unreachable, failed after the last attempt, and the configuration says so', async () => {
    const campaignId = (await createCampaign(t, key, cfgId)).id;
    const pass = await installed(campaignId);
    const token = newPushToken();
    expect((await register(t, newDeviceId(), pass, token)).status).toBe(201);

    apns.setUnreachable(true);
    expect((await patch(campaignId, pass, 'down')).status).toBe(200);
    const waiting = await eventually(
      () => stats(campaignId),
      (p) => p.pending === 1,
      10000,
      50,
    );
    expect(waiting).toMatchObject({ sent: 0, failed: 0, pending: 1 });
    const down = await eventually(apnsStatus, (a) => a.apns.status === 'UNREACHABLE');
    expect(down.apns.status).toBe('UNREACHABLE');
    expect(down.apnsStatus).toBe('UNREACHABLE');
    expect(down.apns.message).toMatch(/unreachable/i);
    expect(Date.parse(down.apns.since ?? '')).toBeGreaterThan(Date.now() - 60_000);

    // After the last attempt the push counts as failed, no longer as pending.
    const gaveUp = await eventually(
      () => stats(campaignId),
      (p) => p.failed === 1,
      30000,
    );
    expect(gaveUp).toMatchObject({ sent: 0, failed: 1, pending: 0 });
    expect(apns.pushes.filter((p) => p.token === token)).toHaveLength(0);

    // APNs back: the next change is delivered and the configuration recovers.
    apns.setUnreachable(false);
    expect((await patch(campaignId, pass, 'up')).status).toBe(200);
    const delivered = await eventually(
      () => stats(campaignId),
      (p) => p.sent === 1,
    );
    expect(delivered).toMatchObject({ sent: 1, failed: 1, pending: 0 });
    const up = await eventually(apnsStatus, (a) => a.apns.status === 'OK');
    expect(up.apns).toMatchObject({ status: 'OK', message: null });
    expect(Date.parse(up.apns.since ?? '')).toBeGreaterThanOrEqual(Date.parse(down.apns.since ?? ''));
  });

  it('a pass push waiting for a retry is delivered once APNs recovers, and counted once', async () => {
    const campaignId = (await createCampaign(t, key, cfgId)).id;
    const pass = await installed(campaignId);
    const token = newPushToken();
    await register(t, newDeviceId(), pass, token);

    apns.setUnreachable(true);
    await patch(campaignId, pass, 'retry me');
    const waiting = await eventually(
      () => stats(campaignId),
      (p) => p.pending === 1,
      10000,
      50,
    );
    expect(waiting).toMatchObject({ sent: 0, failed: 0, pending: 1 });
    apns.setUnreachable(false);
    const delivered = await eventually(
      () => stats(campaignId),
      (p) => p.sent === 1,
      20000,
    );
    expect(delivered).toMatchObject({ sent: 1, failed: 0, pending: 0 });
    await new Promise((r) => setTimeout(r, 500));
    expect(await stats(campaignId)).toMatchObject({ sent: 1, failed: 0, pending: 0 });
    expect(apns.pushes.filter((p) => p.token === token && p.status === 200)).toHaveLength(1);
  });

  it('APNs refusing service (503) shows on the configuration and as pending until a retry gets through', async () => {
    const campaignId = (await createCampaign(t, key, cfgId)).id;
    const pass = await installed(campaignId);
    const token = newPushToken();
    await register(t, newDeviceId(), pass, token);
    apns.respondWith(
      token,
      { status: 503, reason: 'ServiceUnavailable' },
      { status: 503, reason: 'ServiceUnavailable' },
    );
    await patch(campaignId, pass, 'busy');
    const refused = await eventually(apnsStatus, (a) => a.apns.status === 'UNREACHABLE', 10000, 50);
    expect(refused.apns.message).toContain('ServiceUnavailable');
    expect((await stats(campaignId)).sent).toBe(0);
    const delivered = await eventually(
      () => stats(campaignId),
      (p) => p.sent === 1,
      20000,
    );
    expect(delivered).toMatchObject({ sent: 1, failed: 0, pending: 0 });
    expect(apns.pushes.filter((p) => p.token === token).map((p) => p.status)).toEqual([503, 503, 200]);
    expect((await eventually(apnsStatus, (a) => a.apns.status === 'OK')).apns.status).toBe('OK');
  });

  it('a campaign update reports pushes waiting for a retry as pending, then as failed, in progress and stats', async () => {
    const campaignId = (await createCampaign(t, key, cfgId)).id;
    const passes = [await installed(campaignId), await installed(campaignId)];
    for (const p of passes) await register(t, newDeviceId(), p, newPushToken());

    apns.setUnreachable(true);
    const template = { ...campaignBody(cfgId).template, description: 'Outage' };
    const res = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: { template },
    });
    expect(res.status).toBe(200);
    const progress = (updateId: string) => async () =>
      (await t.request('GET', `/api/v1/campaigns/${campaignId}/updates/${updateId}`, { token: key })).body;
    const waiting = await eventually(progress(res.body.updateId), (u) => u.total === 2, 10000, 50);
    expect(waiting).toMatchObject({ status: 'RUNNING', total: 2, sent: 0, failed: 0, pending: 2 });
    expect(await stats(campaignId)).toMatchObject({ sent: 0, failed: 0, pending: 2 });

    const gaveUp = await eventually(progress(res.body.updateId), (u) => u.status === 'DONE', 30000);
    expect(gaveUp).toMatchObject({ status: 'DONE', total: 2, sent: 0, failed: 2, done: 2, pending: 0 });
    expect(await stats(campaignId)).toMatchObject({ sent: 0, failed: 2, pending: 0 });

    apns.setUnreachable(false);
    const again = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: { template: { ...template, description: 'Recovered' } },
    });
    const done = await eventually(progress(again.body.updateId), (u) => u.status === 'DONE');
    expect(done).toMatchObject({ total: 2, sent: 2, failed: 0, pending: 0 });
    expect(await stats(campaignId)).toMatchObject({ sent: 2, failed: 2, pending: 0 });
  });

  it('registeredDevices in the PATCH and void answers matches the passes list', async () => {
    const campaignId = (await createCampaign(t, key, cfgId)).id;
    const pass = await installed(campaignId);
    for (let i = 0; i < 2; i++) await register(t, newDeviceId(), pass, newPushToken());
    const listed = await registeredDevicesListed(campaignId, pass);
    expect(listed).toBe(2);
    const patched = await patch(campaignId, pass, 'counted');
    expect(patched.body.registeredDevices).toBe(listed);
    const unchanged = await patch(campaignId, pass, 'counted');
    expect(unchanged.body.registeredDevices).toBe(listed);
    const voided = await t.request(
      'POST',
      `/api/v1/campaigns/${campaignId}/passes/${pass.serialNumber}/void`,
      {
        token: key,
      },
    );
    expect(voided.status).toBe(200);
    expect(voided.body.registeredDevices).toBe(listed);
    expect(await registeredDevicesListed(campaignId, pass)).toBe(2);
  });
});
