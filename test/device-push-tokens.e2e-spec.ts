import { RegistrationPushTokens1732260000700 } from '../migrations/1732260000700-registration-push-tokens';
import { createDataSource, runMigrations } from '../src/database/prepare-database';
import { apnsEnv, startApns } from './support/apns';
import { createTestDatabase, databaseUrl, dropTestDatabase } from './support/db';
import { FakeApns } from './support/fake-apns';
import { createCampaign, createWalletConfiguration, makeLinks, sharedPki } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';
import {
  eventually,
  install,
  InstalledPass,
  listSerials,
  newDeviceId,
  newPushToken,
  register,
} from './support/wallet-device';

/** One tenant with its own wallet configuration (its own pass type id) and campaign. */
interface Tenant {
  key: string;
  configurationId: string;
  campaignId: string;
}

let voucherN = 0;

async function newTenant(t: TestApp, name: string): Promise<Tenant> {
  const key = (await t.createTenant(name)).apiKey;
  const configurationId = (await createWalletConfiguration(t, key)).id;
  const campaignId = (await createCampaign(t, key, configurationId)).id;
  return { key, configurationId, campaignId };
}

async function installFor(t: TestApp, tenant: Tenant): Promise<InstalledPass> {
  const n = ++voucherN;
  const [url] = await makeLinks(t, tenant.key, [
    {
      campaignId: tenant.campaignId,
      platform: 'APPLE',
      contact: { id: `c${n}` },
      voucher: { code: `DPT-${n}-${newDeviceId().slice(0, 8)}`, value: '10%' },
    },
  ]);
  return install(t, url!, sharedPki().rootFile);
}

async function patchPass(t: TestApp, tenant: Tenant, pass: InstalledPass, value: string): Promise<void> {
  const res = await t.request('PATCH', `/api/v1/campaigns/${tenant.campaignId}/passes/${pass.serialNumber}`, {
    token: tenant.key,
    body: { voucher: { value } },
  });
  expect(res.status).toBe(200);
}

const byTopic = (apns: FakeApns, topic: string) => apns.pushes.filter((p) => p.topic === topic);

/** Waits until APNs saw `count` pushes under `topic`, then a little longer for any stray one. */
async function pushesUnder(apns: FakeApns, topic: string, count: number) {
  const seen = await eventually(
    async () => byTopic(apns, topic),
    (p) => p.length >= count,
  );
  expect(seen.length).toBeGreaterThanOrEqual(count);
  await new Promise((r) => setTimeout(r, 300));
  return byTopic(apns, topic);
}

describe('push tokens per pass type: one device, passes of two tenants (e2e)', () => {
  let t: TestApp;
  let apns: FakeApns;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    apns = await startApns();
    t = await startTestApp({ ...apnsEnv(apns), OUTBOX_POLL_MS: '100' });
    a = await newTenant(t, 'Tenant A');
    b = await newTenant(t, 'Tenant B');
  });
  afterAll(async () => {
    await t?.close();
    await apns?.close();
  });
  beforeEach(() => {
    apns.pushes.length = 0;
  });

  it("B's registration with a new token leaves A's pushes on A's token", async () => {
    const passA = await installFor(t, a);
    const passB = await installFor(t, b);
    expect(passA.passTypeIdentifier).not.toBe(passB.passTypeIdentifier);
    const device = newDeviceId();
    const tokenA = newPushToken();
    const tokenB = newPushToken();
    expect((await register(t, device, passA, tokenA)).status).toBe(201);
    // Registered with B's pass: the token the device reports for B's pass type.
    expect((await register(t, device, passB, tokenB)).status).toBe(201);

    await patchPass(t, a, passA, '20%');
    const underA = await pushesUnder(apns, passA.passTypeIdentifier, 1);
    expect(underA.map((p) => p.token)).toEqual([tokenA]);
    expect(underA[0]!.status).toBe(200);

    // B re-registers with yet another token: only B's pass type moves to it.
    const tokenB2 = newPushToken();
    expect((await register(t, device, passB, tokenB2)).status).toBe(200);
    await patchPass(t, a, passA, '30%');
    await patchPass(t, b, passB, '30%');
    expect((await pushesUnder(apns, passA.passTypeIdentifier, 2)).map((p) => p.token)).toEqual([
      tokenA,
      tokenA,
    ]);
    expect((await pushesUnder(apns, passB.passTypeIdentifier, 1)).map((p) => p.token)).toEqual([tokenB2]);
    expect(apns.pushes.some((p) => p.token === tokenB)).toBe(false);

    // Both passes stay listed for the device, each under its own pass type.
    expect((await listSerials(t, device, passA.passTypeIdentifier)).body.serialNumbers).toEqual([
      passA.serialNumber,
    ]);
    expect((await listSerials(t, device, passB.passTypeIdentifier)).body.serialNumbers).toEqual([
      passB.serialNumber,
    ]);
  });

  it('a new token reaches every registration of its own pass type on the device', async () => {
    const [first, second] = [await installFor(t, a), await installFor(t, a)];
    const other = await installFor(t, b);
    const device = newDeviceId();
    const [oldToken, newToken, otherToken] = [newPushToken(), newPushToken(), newPushToken()];
    expect((await register(t, device, first, oldToken)).status).toBe(201);
    expect((await register(t, device, second, oldToken)).status).toBe(201);
    expect((await register(t, device, other, otherToken)).status).toBe(201);
    // The device reports a new token while re-registering one pass of A's pass type.
    expect((await register(t, device, first, newToken)).status).toBe(200);

    await patchPass(t, a, second, 'n');
    await patchPass(t, b, other, 'n');
    expect((await pushesUnder(apns, second.passTypeIdentifier, 1)).map((p) => p.token)).toEqual([newToken]);
    expect((await pushesUnder(apns, other.passTypeIdentifier, 1)).map((p) => p.token)).toEqual([otherToken]);
  });

  for (const rejection of [
    { status: 400, reason: 'BadDeviceToken' },
    { status: 410, reason: 'Unregistered' },
  ]) {
    it(`B's ${rejection.reason} leaves A's registration in place and A's pushes working`, async () => {
      const passA = await installFor(t, a);
      const passB = await installFor(t, b);
      const device = newDeviceId();
      // The same device token for both pass types, as a phone reports it: the hardest case.
      const token = newPushToken();
      expect((await register(t, device, passA, token)).status).toBe(201);
      expect((await register(t, device, passB, token)).status).toBe(201);

      apns.respondWith(token, rejection);
      await patchPass(t, b, passB, 'rejected');
      const gone = await eventually(
        () => listSerials(t, device, passB.passTypeIdentifier),
        (r) => r.status === 204,
      );
      expect(gone.status).toBe(204);
      expect(byTopic(apns, passB.passTypeIdentifier).map((p) => p.status)).toEqual([rejection.status]);

      // A's registration is still there: listed, counted, and pushed.
      const listed = await listSerials(t, device, passA.passTypeIdentifier);
      expect(listed.status).toBe(200);
      expect(listed.body.serialNumbers).toEqual([passA.serialNumber]);
      const passes = await t.request('GET', `/api/v1/campaigns/${a.campaignId}/passes?limit=200`, {
        token: a.key,
      });
      const row = (passes.body.items as { serialNumber: string; registeredDevices: number }[]).find(
        (p) => p.serialNumber === passA.serialNumber,
      );
      expect(row?.registeredDevices).toBe(1);
      await patchPass(t, a, passA, 'still here');
      const underA = await pushesUnder(apns, passA.passTypeIdentifier, 1);
      expect(underA.map((p) => [p.token, p.status])).toEqual([[token, 200]]);

      // Unregistering the device's last pass still removes the device.
      const unregistered = await t.request(
        'DELETE',
        `/v1/devices/${device}/registrations/${passA.passTypeIdentifier}/${passA.serialNumber}`,
        { headers: { authorization: `ApplePass ${passA.authenticationToken}` } },
      );
      expect(unregistered.status).toBe(200);
      const devices = await t.db.query('SELECT 1 FROM devices WHERE device_library_identifier = $1', [
        device,
      ]);
      expect(devices.rowCount).toBe(0);
    });
  }
});

describe('migration to push tokens per registration (e2e)', () => {
  let apns: FakeApns;
  let dbName: string;

  beforeAll(async () => {
    apns = await startApns();
    dbName = await createTestDatabase();
  });
  afterAll(async () => {
    await apns?.close();
    if (dbName) await dropTestDatabase(dbName);
  });

  it('keeps existing devices: their token is copied to each pass type they have registrations for', async () => {
    const env = { ...apnsEnv(apns), OUTBOX_POLL_MS: '100' };
    // Tenants, configurations and passes through the service as it is today.
    let t = await startTestApp(env, dbName);
    const a = await newTenant(t, 'Tenant A');
    const b = await newTenant(t, 'Tenant B');
    const [passA, passA2, passB] = [await installFor(t, a), await installFor(t, a), await installFor(t, b)];
    const before = newDeviceId();
    const beforeToken = newPushToken();
    expect((await register(t, before, passA2, beforeToken)).status).toBe(201);
    // The restarted service must decrypt the same credentials.
    const keys = {
      SECRETS_ENCRYPTION_KEY: t.env.SECRETS_ENCRYPTION_KEY!,
      LINK_SIGNING_KEYS: t.env.LINK_SIGNING_KEYS!,
    };
    await t.close();

    // Back to the schema before the migration (one push token per device), and data written in it.
    const url = databaseUrl(dbName);
    const ds = createDataSource(url);
    await ds.initialize();
    const [both, onlyA] = [newDeviceId(), newDeviceId()];
    const [bothToken, onlyAToken] = [newPushToken(), newPushToken()];
    try {
      const qr = ds.createQueryRunner();
      await qr.startTransaction();
      const migration = new RegistrationPushTokens1732260000700();
      await migration.down(qr);
      await qr.query('DELETE FROM migrations WHERE name = $1', [migration.name]);
      const old: unknown = await qr.query(
        'SELECT push_token FROM devices WHERE device_library_identifier = $1',
        [before],
      );
      expect(old).toEqual([{ push_token: beforeToken }]);
      await qr.query(
        `INSERT INTO devices (device_library_identifier, push_token) VALUES ($1, $2), ($3, $4)`,
        [both, bothToken, onlyA, onlyAToken],
      );
      await qr.query(
        `INSERT INTO registrations (device_id, pass_id, tenant_id)
         SELECT d.id, p.id, p.tenant_id FROM devices d, passes p
          WHERE (d.device_library_identifier = $1 AND p.serial_number IN ($3, $4))
             OR (d.device_library_identifier = $2 AND p.serial_number IN ($3, $5))`,
        [both, onlyA, passA.serialNumber, passB.serialNumber, passA2.serialNumber],
      );
      await qr.commitTransaction();
      await qr.release();
    } finally {
      await ds.destroy();
    }

    await runMigrations(url, { info: () => undefined, warn: () => undefined });

    t = await startTestApp({ ...env, ...keys }, dbName);
    try {
      const tokens = await t.db.query<{ device: string; serial: string; push_token: string }>(
        `SELECT d.device_library_identifier AS device, p.serial_number AS serial, r.push_token
           FROM registrations r JOIN devices d ON d.id = r.device_id JOIN passes p ON p.id = r.pass_id
          ORDER BY 1, 2`,
      );
      const expected = [
        { device: before, serial: passA2.serialNumber, push_token: beforeToken },
        { device: both, serial: passA.serialNumber, push_token: bothToken },
        { device: both, serial: passB.serialNumber, push_token: bothToken },
        { device: onlyA, serial: passA.serialNumber, push_token: onlyAToken },
        { device: onlyA, serial: passA2.serialNumber, push_token: onlyAToken },
      ].sort((x, y) => (x.device + x.serial < y.device + y.serial ? -1 : 1));
      expect(tokens.rows).toEqual(expected);

      // The service reads the migrated data: lists and pushes as before.
      expect((await listSerials(t, both, passB.passTypeIdentifier)).body.serialNumbers).toEqual([
        passB.serialNumber,
      ]);
      expect(
        ((await listSerials(t, onlyA, passA.passTypeIdentifier)).body.serialNumbers as string[]).sort(),
      ).toEqual([passA.serialNumber, passA2.serialNumber].sort());
      await patchPass(t, a, passA, 'migrated');
      await patchPass(t, b, passB, 'migrated');
      const underA = await pushesUnder(apns, passA.passTypeIdentifier, 2);
      expect(underA.map((p) => p.token).sort()).toEqual([bothToken, onlyAToken].sort());
      expect((await pushesUnder(apns, passB.passTypeIdentifier, 1)).map((p) => p.token)).toEqual([bothToken]);
    } finally {
      await t.close();
    }
  });
});
