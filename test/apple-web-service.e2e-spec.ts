import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppleDevicesRepository } from '../src/modules/apple-web-service/apple-devices.repository';
import { AppleDevicesService } from '../src/modules/apple-web-service/apple-devices.service';
import { PASS_CHANGED_SET } from '../src/modules/passes/change-tracking';
import {
  campaignBody,
  createCampaign,
  createWalletConfiguration,
  linkPath,
  makeLinks,
  sharedPki,
  WalletFixture,
} from './support/fixtures';
import { databaseUrl } from './support/db';
import { checkPkpass } from './support/pkpass';
import { HttpResult, startTestApp, TestApp } from './support/test-app';

const PKPASS = 'application/vnd.apple.pkpass';

interface Installed {
  serial: string;
  token: string;
  passType: string;
  passId: string;
  lastModified: string;
}

const deviceId = () => randomBytes(16).toString('hex');
const pushToken = () => randomBytes(32).toString('hex');
const applePass = (token: string) => ({ authorization: `ApplePass ${token}` });

function registrationPath(device: string, passType: string, serial: string): string {
  return `/v1/devices/${device}/registrations/${passType}/${serial}`;
}

/** Issues an Apple pass through its link, as a user tapping "Add to Wallet" would. */
async function install(
  t: TestApp,
  apiKey: string,
  campaignId: string,
  voucher: Record<string, string>,
): Promise<Installed> {
  const [url] = await makeLinks(t, apiKey, [
    { campaignId, platform: 'APPLE', contact: { id: `c-${voucher.code}`, firstName: 'Ada' }, voucher },
  ]);
  const res = await t.request('GET', linkPath(url!));
  if (res.status !== 200) throw new Error(`install failed: ${res.status} ${res.text.slice(0, 300)}`);
  const { passJson } = await checkPkpass(res.raw, sharedPki().rootFile);
  const row = await t.db.query<{ id: string }>('SELECT id FROM passes WHERE serial_number = $1', [
    passJson.serialNumber,
  ]);
  return {
    serial: passJson.serialNumber as string,
    token: passJson.authenticationToken as string,
    passType: passJson.passTypeIdentifier as string,
    passId: row.rows[0]!.id,
    lastModified: res.headers.get('last-modified')!,
  };
}

/** A pass content change as the service makes it: in a transaction, with that transaction's change tag. */
async function changePass(t: TestApp, serial: string, voucherValue: string): Promise<void> {
  await t.db.query('BEGIN');
  try {
    const res = await t.db.query(
      `UPDATE passes SET data = jsonb_set(data, '{voucher,value}', to_jsonb($2::text)), ${PASS_CHANGED_SET}
        WHERE serial_number = $1`,
      [serial, voucherValue],
    );
    if (res.rowCount !== 1) throw new Error(`pass ${serial} not changed`);
    await t.db.query('COMMIT');
  } catch (err) {
    await t.db.query('ROLLBACK');
    throw err;
  }
}

async function passJsonOf(res: HttpResult): Promise<Record<string, any>> {
  return (await checkPkpass(res.raw, sharedPki().rootFile)).passJson;
}

describe('Apple Wallet web service (e2e)', () => {
  let t: TestApp;
  let key: string;
  let cfg: WalletFixture;
  let campaignId: string;
  let voucherN = 0;
  const newPass = (value = '10%') =>
    install(t, key, campaignId, { code: `AWS-${++voucherN}-${deviceId().slice(0, 6)}`, value });

  beforeAll(async () => {
    // No device-log budget per IP here: the trimming test sends 1,100 messages from one address.
    t = await startTestApp({
      PUBLIC_BASE_URL: 'https://wallet.example.test',
      APPLE_LOG_RATE_LIMIT_PER_IP: '0',
    });
    key = (await t.createTenant()).apiKey;
    cfg = await createWalletConfiguration(t, key);
    campaignId = (await createCampaign(t, key, cfg.id)).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const list = (device: string, passType: string, tag?: string) =>
    t.request(
      'GET',
      `/v1/devices/${device}/registrations/${passType}${tag === undefined ? '' : `?passesUpdatedSince=${encodeURIComponent(tag)}`}`,
    );
  const register = (device: string, p: Installed, token = pushToken(), authToken = p.token) =>
    t.request('POST', registrationPath(device, p.passType, p.serial), {
      headers: applePass(authToken),
      body: { pushToken: token },
    });
  const fetchPass = (p: Installed, ifModifiedSince?: string, method = 'GET') =>
    t.request(method, `/v1/passes/${p.passType}/${p.serial}`, {
      headers: {
        ...applePass(p.token),
        ...(ifModifiedSince ? { 'if-modified-since': ifModifiedSince } : {}),
      },
    });

  it('walks a device through install, register, list, fetch, change, refetch and unregister', async () => {
    const pass = await newPass('10%');
    const device = deviceId();
    const token = pushToken();

    const reg = await register(device, pass, token);
    expect(reg.status).toBe(201);

    const all = await list(device, pass.passType);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toContain('application/json');
    expect(all.body.serialNumbers).toEqual([pass.serial]);
    expect(typeof all.body.lastUpdated).toBe('string');
    expect(all.body.lastUpdated).toMatch(/^[0-9]+$/);
    const tag1 = all.body.lastUpdated as string;

    const first = await fetchPass(pass);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe(PKPASS);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const lm1 = first.headers.get('last-modified')!;
    expect(lm1).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const json1 = await passJsonOf(first);
    expect(json1).toMatchObject({
      serialNumber: pass.serial,
      authenticationToken: pass.token,
      webServiceURL: 'https://wallet.example.test',
    });
    expect(json1.coupon.headerFields[0].value).toBe('10%');

    expect((await list(device, pass.passType, tag1)).status).toBe(204);

    await changePass(t, pass.serial, '25%');

    const changed = await list(device, pass.passType, tag1);
    expect(changed.status).toBe(200);
    expect(changed.body.serialNumbers).toEqual([pass.serial]);
    const tag2 = changed.body.lastUpdated as string;
    expect(BigInt(tag2)).toBeGreaterThan(BigInt(tag1));

    const second = await fetchPass(pass, lm1);
    expect(second.status).toBe(200);
    const lm2 = second.headers.get('last-modified')!;
    expect(Date.parse(lm2)).toBeGreaterThan(Date.parse(lm1));
    expect((await passJsonOf(second)).coupon.headerFields[0].value).toBe('25%');

    const unchanged = await fetchPass(pass, lm2);
    expect(unchanged.status).toBe(304);
    expect(unchanged.raw.length).toBe(0);
    expect(unchanged.headers.get('last-modified')).toBe(lm2);

    expect((await list(device, pass.passType, tag2)).status).toBe(204);

    const unreg = await t.request('DELETE', registrationPath(device, pass.passType, pass.serial), {
      headers: applePass(pass.token),
    });
    expect(unreg.status).toBe(200);
    expect((await list(device, pass.passType)).status).toBe(204);
    const rows = await t.db.query('SELECT 1 FROM devices WHERE device_library_identifier = $1', [device]);
    expect(rows.rowCount).toBe(0);
  });

  it('lists a serial as updated after a campaign-wide template change', async () => {
    const campaign = await createCampaign(t, key, cfg.id);
    const pass = await install(t, key, campaign.id, { code: `CW-${deviceId()}`, value: '5%' });
    const device = deviceId();
    expect((await register(device, pass)).status).toBe(201);
    const before = await list(device, pass.passType);
    expect(before.status).toBe(200);
    const tag = before.body.lastUpdated as string;
    const fetched = await fetchPass(pass);
    expect(fetched.status).toBe(200);
    const lm = fetched.headers.get('last-modified')!;
    expect((await list(device, pass.passType, tag)).status).toBe(204);

    const template = { ...campaignBody(cfg.id).template, organizationName: 'Acme Autumn' };
    const patched = await t.request('PATCH', `/api/v1/campaigns/${campaign.id}`, {
      token: key,
      body: { template },
    });
    expect(patched.status).toBe(200);

    const after = await list(device, pass.passType, tag);
    expect(after.status).toBe(200);
    expect(after.body.serialNumbers).toEqual([pass.serial]);
    expect(BigInt(after.body.lastUpdated)).toBeGreaterThan(BigInt(tag));
    const refetched = await fetchPass(pass, lm);
    expect(refetched.status).toBe(200);
    expect((await passJsonOf(refetched)).organizationName).toBe('Acme Autumn');
    expect(Date.parse(refetched.headers.get('last-modified')!)).toBeGreaterThan(Date.parse(lm));
  });

  it('sees two changes made within the same second', async () => {
    const pass = await newPass('1');
    const device = deviceId();
    expect((await register(device, pass)).status).toBe(201);
    const tag0 = (await list(device, pass.passType)).body.lastUpdated as string;
    const lm0 = (await fetchPass(pass)).headers.get('last-modified')!;

    await changePass(t, pass.serial, '2');
    const first = await fetchPass(pass, lm0);
    expect(first.status).toBe(200);
    const lm1 = first.headers.get('last-modified')!;
    const listed1 = await list(device, pass.passType, tag0);
    expect(listed1.body.serialNumbers).toEqual([pass.serial]);
    const tag1 = listed1.body.lastUpdated as string;

    await changePass(t, pass.serial, '3');
    const second = await fetchPass(pass, lm1);
    expect(second.status).toBe(200);
    expect((await passJsonOf(second)).coupon.headerFields[0].value).toBe('3');
    const listed2 = await list(device, pass.passType, tag1);
    expect(listed2.status).toBe(200);
    expect(listed2.body.serialNumbers).toEqual([pass.serial]);
  });

  it('never misses a change that commits after a later-tagged one (no global lock, adverse commit order)', async () => {
    const [a, b] = [await newPass('1'), await newPass('1')];
    const device = deviceId();
    for (const p of [a, b]) expect((await register(device, p)).status).toBe(201);
    const tag0 = (await list(device, a.passType)).body.lastUpdated as string;
    expect((await list(device, a.passType, tag0)).status).toBe(204);

    // A change of pass a, made as the service makes it, held open on a second connection.
    const held = new Client({ connectionString: databaseUrl(t.dbName) });
    await held.connect();
    try {
      await held.query('BEGIN');
      const tagA = (
        await held.query<{ tag: string }>(
          `UPDATE passes SET data = jsonb_set(data, '{voucher,value}', '"held"'), ${PASS_CHANGED_SET}
            WHERE serial_number = $1 RETURNING change_seq::text AS tag`,
          [a.serial],
        )
      ).rows[0]!.tag;

      // A later change of pass b through the API: it does not wait for a's transaction.
      const started = Date.now();
      const patched = await t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${b.serial}`, {
        token: key,
        body: { voucher: { value: 'patched' } },
      });
      expect(patched.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
      const tagB = (
        await t.db.query<{ tag: string }>(
          'SELECT change_seq::text AS tag FROM passes WHERE serial_number = $1',
          [b.serial],
        )
      ).rows[0]!.tag;
      // The adverse order: b carries the later tag and is committed first.
      expect(BigInt(tagB)).toBeGreaterThan(BigInt(tagA));

      const whileHeld = await list(device, a.passType, tag0);
      expect(whileHeld.status).toBe(200);
      expect(whileHeld.body.serialNumbers).toEqual([b.serial]);
      const tag1 = whileHeld.body.lastUpdated as string;
      // The answer must not let the device skip a's change when it commits.
      expect(BigInt(tag1)).toBeLessThan(BigInt(tagA));

      await held.query('COMMIT');
      const afterCommit = await list(device, a.passType, tag1);
      expect(afterCommit.status).toBe(200);
      expect(afterCommit.body.serialNumbers).toContain(a.serial);
      const tag2 = afterCommit.body.lastUpdated as string;
      expect(BigInt(tag2)).toBeGreaterThanOrEqual(BigInt(tagB));
      expect((await list(device, a.passType, tag2)).status).toBe(204);
      expect((await passJsonOf(await fetchPass(a))).coupon.headerFields[0].value).toBe('held');
    } finally {
      await held.query('ROLLBACK').catch(() => undefined);
      await held.end();
    }
  });

  it('returns only the changed serials of the requested pass type, and all of them without a usable tag', async () => {
    const [a, b, c] = [await newPass(), await newPass(), await newPass()];
    const device = deviceId();
    for (const p of [a, b, c]) expect((await register(device, p)).status).toBe(201);
    const all = await list(device, a.passType);
    expect([...all.body.serialNumbers].sort()).toEqual([a.serial, b.serial, c.serial].sort());
    const tag = all.body.lastUpdated as string;

    await changePass(t, b.serial, '50%');
    const changed = await list(device, a.passType, tag);
    expect(changed.body.serialNumbers).toEqual([b.serial]);

    for (const garbage of ['yesterday', '-1', '1.5', '99999999999999999999999']) {
      const res = await list(device, a.passType, garbage);
      expect(res.status).toBe(200);
      expect(res.body.serialNumbers).toHaveLength(3);
    }
    expect((await list(device, 'pass.com.example.other')).status).toBe(204);
    expect((await list(deviceId(), a.passType)).status).toBe(204);
  });

  it('registers exactly once under 20 concurrent identical requests', async () => {
    const pass = await newPass();
    const device = deviceId();
    const token = pushToken();
    const results = await Promise.all(Array.from({ length: 20 }, () => register(device, pass, token)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const rows = await t.db.query(
      `SELECT r.pass_id FROM registrations r JOIN devices d ON d.id = r.device_id
        WHERE d.device_library_identifier = $1`,
      [device],
    );
    expect(rows.rows).toEqual([{ pass_id: pass.passId }]);
    const devices = await t.db.query('SELECT 1 FROM devices WHERE device_library_identifier = $1', [device]);
    expect(devices.rowCount).toBe(1);
  });

  it('answers each of many concurrent, mixed registrations (batched together) on its own', async () => {
    const a = await newPass();
    const b = await newPass();
    const known = deviceId();
    expect((await register(known, a, 'ab'.repeat(32))).status).toBe(201);

    const fresh = Array.from({ length: 12 }, () => deviceId());
    const wrongToken = Array.from({ length: 6 }, () => deviceId());
    const unknownSerial = Array.from({ length: 4 }, () => deviceId());
    const plan: [string, Promise<HttpResult>][] = [
      ...fresh.map((d, i): [string, Promise<HttpResult>] => ['201', register(d, i % 2 ? a : b)]),
      ...wrongToken.map((d): [string, Promise<HttpResult>] => ['401', register(d, a, pushToken(), b.token)]),
      ...unknownSerial.map((d): [string, Promise<HttpResult>] => [
        '401',
        register(d, { ...a, serial: `no-such-${d.slice(0, 8)}` }),
      ]),
      ['200', register(known, a, 'CD'.repeat(32))],
      // One device registering a second pass in the same burst: a new registration.
      ['201', register(known, b, 'cd'.repeat(32))],
    ];
    const results = await Promise.all(plan.map(([, p]) => p));
    expect(results.map((r) => String(r.status))).toEqual(plan.map(([want]) => want));

    const rows = await t.db.query<{ device: string; pass_id: string }>(
      `SELECT d.device_library_identifier AS device, r.pass_id FROM registrations r
         JOIN devices d ON d.id = r.device_id
        WHERE d.device_library_identifier = ANY($1::text[])
        ORDER BY 1, 2`,
      [[...fresh, ...wrongToken, ...unknownSerial, known]],
    );
    const expected = [
      ...fresh.map((d, i) => ({ device: d, pass_id: (i % 2 ? a : b).passId })),
      { device: known, pass_id: a.passId },
      { device: known, pass_id: b.passId },
    ].sort((x, y) => (x.device + x.pass_id < y.device + y.pass_id ? -1 : 1));
    expect(rows.rows).toEqual(expected);
    const rejectedDevices = await t.db.query(
      'SELECT 1 FROM devices WHERE device_library_identifier = ANY($1)',
      [[...wrongToken, ...unknownSerial]],
    );
    expect(rejectedDevices.rowCount).toBe(0);
    // a and b share a pass type: the newest token is the one both registrations are pushed with.
    const token = await t.db.query(
      `SELECT DISTINCT r.push_token FROM registrations r JOIN devices d ON d.id = r.device_id
        WHERE d.device_library_identifier = $1`,
      [known],
    );
    expect(token.rows).toEqual([{ push_token: 'cd'.repeat(32) }]);
  });

  it('writes registrations submitted together with one batched statement, each with its own outcome', async () => {
    const repo = t.app.get(AppleDevicesRepository);
    const pool = (t.app.get(DataSource).driver as PostgresDriver).master as Pool;
    const statements: string[] = [];
    const spy = jest.spyOn(pool, 'query').mockImplementation(function (this: Pool, ...args: unknown[]) {
      const q = args[0] as { name?: string };
      if (q && typeof q === 'object' && q.name) statements.push(q.name);
      return (Pool.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    });
    try {
      const p = await newPass();
      const devices = Array.from({ length: 8 }, () => deviceId());
      const input = (device: string, token = p.token, serial = p.serial) => ({
        deviceLibraryIdentifier: device,
        pushToken: pushToken(),
        passTypeIdentifier: p.passType,
        serialNumber: serial,
        authenticationToken: token,
      });
      const outcomes = await Promise.all([
        ...devices.slice(0, 6).map((d) => repo.register(input(d))),
        repo.register(input(devices[6]!, 'x'.repeat(p.token.length))),
        repo.register(input(devices[7]!, p.token, 'no-such-serial')),
      ]);
      expect(outcomes).toEqual([
        ...Array.from({ length: 6 }, () => ({ authenticated: true, created: true })),
        { authenticated: false, created: false },
        { authenticated: false, created: false },
      ]);
      expect(statements).toEqual(['apple_register_batch']);
      const again = await Promise.all(devices.slice(0, 3).map((d) => repo.register(input(d))));
      expect(again).toEqual(Array.from({ length: 3 }, () => ({ authenticated: true, created: false })));
      const n = await t.db.query('SELECT count(*)::int AS n FROM registrations WHERE pass_id = $1', [
        p.passId,
      ]);
      expect(n.rows[0].n).toBe(6);
    } finally {
      spy.mockRestore();
    }
  });

  it('updates the push token when a registered device registers again', async () => {
    const pass = await newPass();
    const device = deviceId();
    expect((await register(device, pass, 'aa'.repeat(32))).status).toBe(201);
    const again = await register(device, pass, 'BB'.repeat(32));
    expect(again.status).toBe(200);
    const rows = await t.db.query(
      `SELECT r.push_token FROM registrations r JOIN devices d ON d.id = r.device_id
        WHERE d.device_library_identifier = $1`,
      [device],
    );
    expect(rows.rows).toEqual([{ push_token: 'bb'.repeat(32) }]);
  });

  it('answers 401 on every authentication failure of register, unregister and get-pass', async () => {
    const pass = await newPass();
    const other = await newPass();
    const device = deviceId();
    expect((await register(device, pass)).status).toBe(201);
    const cases: [string, Record<string, string>, string, string][] = [
      ['no header', {}, pass.passType, pass.serial],
      ['wrong scheme', { authorization: `Bearer ${pass.token}` }, pass.passType, pass.serial],
      ['empty token', { authorization: 'ApplePass ' }, pass.passType, pass.serial],
      ['wrong token', applePass(other.token), pass.passType, pass.serial],
      ['unknown serial', applePass(pass.token), pass.passType, 'no-such-serial'],
      ['wrong pass type', applePass(pass.token), 'pass.com.example.wrong', pass.serial],
      ['overlong serial', applePass(pass.token), pass.passType, 'x'.repeat(300)],
    ];
    for (const [name, headers, passType, serial] of cases) {
      const path = registrationPath(device, passType, serial);
      const reg = await t.request('POST', path, { headers, body: { pushToken: pushToken() } });
      const unreg = await t.request('DELETE', path, { headers });
      const get = await t.request('GET', `/v1/passes/${passType}/${serial}`, { headers });
      const head = await t.request('HEAD', `/v1/passes/${passType}/${serial}`, { headers });
      expect([name, reg.status, unreg.status, get.status, head.status]).toEqual([name, 401, 401, 401, 401]);
      expect(reg.headers.get('www-authenticate')).toBe('ApplePass');
    }
    // A device that fails authentication leaves no trace.
    const stranger = deviceId();
    const refused = await t.request('POST', registrationPath(stranger, pass.passType, pass.serial), {
      headers: applePass(`${pass.token.slice(0, -1)}${pass.token.endsWith('A') ? 'B' : 'A'}`),
      body: { pushToken: pushToken() },
    });
    expect(refused.status).toBe(401);
    const trace = await t.db.query('SELECT 1 FROM devices WHERE device_library_identifier = $1', [stranger]);
    expect(trace.rowCount).toBe(0);
    // Authentication comes before validation: a malformed body with a wrong token is still 401.
    const bad = await t.request('POST', registrationPath(device, pass.passType, pass.serial), {
      headers: applePass(other.token),
      body: { pushToken: 'not hex' },
    });
    expect(bad.status).toBe(401);
    // Nothing changed: the device is still registered once, with its token.
    const rows = await t.db.query(
      `SELECT count(*)::int AS n FROM registrations r JOIN devices d ON d.id = r.device_id
        WHERE d.device_library_identifier = $1`,
      [device],
    );
    expect(rows.rows[0].n).toBe(1);
    expect(
      (
        await t.request('GET', `/v1/passes/${pass.passType}/${pass.serial}`, {
          headers: applePass(pass.token),
        })
      ).status,
    ).toBe(200);
  });

  it('answers 400 for malformed device identifiers and push tokens once authenticated', async () => {
    const pass = await newPass();
    const post = (device: string, body: unknown) =>
      t.request('POST', registrationPath(device, pass.passType, pass.serial), {
        headers: applePass(pass.token),
        body: body as Record<string, unknown>,
      });
    for (const body of [
      { pushToken: 'xyz' },
      { pushToken: 'ab' },
      { pushToken: 'a'.repeat(600) },
      {},
      { pushToken: 12 },
    ]) {
      const res = await post(deviceId(), body);
      expect([JSON.stringify(body).slice(0, 40), res.status]).toEqual([
        JSON.stringify(body).slice(0, 40),
        400,
      ]);
    }
    const noBody = await t.request('POST', registrationPath(deviceId(), pass.passType, pass.serial), {
      headers: applePass(pass.token),
    });
    expect(noBody.status).toBe(400);
    for (const device of ['bad%20id', 'a'.repeat(129), 'semi;colon']) {
      const res = await post(device, { pushToken: pushToken() });
      expect([device, res.status]).toEqual([device, 400]);
      expect((await list(device, pass.passType)).status).toBe(400);
    }
    // Extra fields in Apple's body are ignored.
    expect((await post(deviceId(), { pushToken: pushToken(), extra: true })).status).toBe(201);
    const devices = await t.db.query(`SELECT count(*)::int AS n FROM registrations WHERE pass_id = $1`, [
      pass.passId,
    ]);
    expect(devices.rows[0].n).toBe(1);
  });

  it('keeps the device while it has other passes and removes it with its last registration', async () => {
    const [a, b] = [await newPass(), await newPass()];
    const device = deviceId();
    expect((await register(device, a)).status).toBe(201);
    expect((await register(device, b)).status).toBe(201);
    const del = (p: Installed) =>
      t.request('DELETE', registrationPath(device, p.passType, p.serial), { headers: applePass(p.token) });
    expect((await del(a)).status).toBe(200);
    expect((await list(device, a.passType)).body.serialNumbers).toEqual([b.serial]);
    expect((await del(a)).status).toBe(200);
    const count = async () =>
      (
        await t.db.query('SELECT count(*)::int AS n FROM devices WHERE device_library_identifier = $1', [
          device,
        ])
      ).rows[0].n as number;
    expect(await count()).toBe(1);
    expect((await del(b)).status).toBe(200);
    expect(await count()).toBe(0);
  });

  it('keeps registrations consistent when registering and unregistering race', async () => {
    const [a, b] = [await newPass(), await newPass()];
    for (let round = 0; round < 10; round++) {
      const device = deviceId();
      expect((await register(device, a)).status).toBe(201);
      const [unreg, reg] = await Promise.all([
        t.request('DELETE', registrationPath(device, a.passType, a.serial), { headers: applePass(a.token) }),
        register(device, b),
      ]);
      expect([unreg.status, reg.status]).toEqual([200, 201]);
      const listed = await list(device, b.passType);
      expect(listed.body.serialNumbers).toEqual([b.serial]);
    }
  });

  it('answers HEAD like GET without a body', async () => {
    const pass = await newPass();
    const get = await fetchPass(pass);
    const head = await fetchPass(pass, undefined, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.raw.length).toBe(0);
    for (const h of ['content-type', 'last-modified', 'cache-control']) {
      expect([h, head.headers.get(h)]).toEqual([h, get.headers.get(h)]);
    }
    const notModified = await fetchPass(pass, get.headers.get('last-modified')!, 'HEAD');
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('last-modified')).toBe(get.headers.get('last-modified'));
  });

  it('serves a voided pass, marked voided', async () => {
    const pass = await newPass();
    await t.db.query('BEGIN');
    await t.db.query(`UPDATE passes SET voided = true, ${PASS_CHANGED_SET} WHERE serial_number = $1`, [
      pass.serial,
    ]);
    await t.db.query('COMMIT');
    const res = await fetchPass(pass, pass.lastModified);
    expect(res.status).toBe(200);
    expect((await passJsonOf(res)).voided).toBe(true);
  });

  it('tolerates a doubled slash before v1', async () => {
    const pass = await newPass();
    const device = deviceId();
    const reg = await t.request('POST', `/${registrationPath(device, pass.passType, pass.serial)}`, {
      headers: applePass(pass.token),
      body: { pushToken: pushToken() },
    });
    expect(reg.status).toBe(201);
    const listed = await t.request('GET', `//v1/devices/${device}/registrations/${pass.passType}`);
    expect(listed.status).toBe(200);
    expect(listed.body.serialNumbers).toEqual([pass.serial]);
    const got = await t.request('GET', `//v1/passes/${pass.passType}/${pass.serial}`, {
      headers: applePass(pass.token),
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe(PKPASS);
  });

  it('logs device messages in one line per request, keeps them for the tenant, and rejects malformed bodies', async () => {
    const pass = await newPass();
    const marker = `marker-${deviceId()}`;
    const message = `[${marker}] Get pass task (pass type ${pass.passType}, serial number ${pass.serial}, if-modified-since (null); with web service url https://wallet.example.test) encountered error: Unexpected response code 500`;
    const res = await t.request('POST', '/v1/log', { body: { logs: [message, `unrelated ${marker}`] } });
    expect(res.status).toBe(200);
    const lines = t.logs.lines
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((l) => typeof l.sample === 'string' && l.sample.includes(marker));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'Wallet device logs received',
        messages: 2,
        unattributed: 1,
        serialNumber: pass.serial,
        passTypeIdentifier: pass.passType,
      }),
    ]);
    const stored = await t.db.query(
      `SELECT l.tenant_id, p.tenant_id AS pass_tenant FROM device_logs l JOIN passes p ON p.serial_number = l.serial_number
        WHERE l.message LIKE $1`,
      [`[${marker}]%`],
    );
    expect(stored.rowCount).toBe(1);
    expect(stored.rows[0].tenant_id).toBe(stored.rows[0].pass_tenant);
    const orphan = await t.db.query(`SELECT tenant_id FROM device_logs WHERE message = $1`, [
      `unrelated ${marker}`,
    ]);
    expect(orphan.rows).toEqual([{ tenant_id: null }]);

    const many = await t.request('POST', '/v1/log', {
      body: { logs: Array.from({ length: 101 }, (_, i) => `${marker}-bulk-${i}`) },
    });
    expect(many.status).toBe(413);
    expect(many.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', fields: [{ field: 'logs' }] });
    const long = await t.request('POST', '/v1/log', {
      body: { logs: [`${marker}-long`, `${marker}-long ${'x'.repeat(2000)}`] },
    });
    expect(long.status).toBe(413);
    expect(long.body.error.fields).toEqual([{ field: 'logs[1]', message: expect.any(String) }]);
    const bulk = await t.db.query(`SELECT count(*)::int AS n FROM device_logs WHERE message LIKE $1`, [
      `${marker}-%`,
    ]);
    expect(bulk.rows[0].n).toBe(0);

    for (const body of [{}, { logs: 'x' }, { logs: [1, 2] }, [], 'text']) {
      const bad = await t.request('POST', '/v1/log', { body });
      expect([JSON.stringify(body), bad.status]).toEqual([JSON.stringify(body), 400]);
    }
    expect((await t.request('POST', '/v1/log', { body: { logs: [] } })).status).toBe(200);
  });

  it('keeps at most 1,000 device log rows per tenant', async () => {
    const pass = await newPass();
    for (let batch = 0; batch < 11; batch++) {
      const logs = Array.from({ length: 100 }, (_, i) => `trim ${batch}-${i} serial number ${pass.serial}`);
      expect((await t.request('POST', '/v1/log', { body: { logs } })).status).toBe(200);
    }
    const tenant = await t.db.query('SELECT tenant_id FROM passes WHERE serial_number = $1', [pass.serial]);
    const rows = await t.db.query(
      `SELECT count(*)::int AS n, min(message) FILTER (WHERE message LIKE 'trim 0-%') AS oldest
         FROM device_logs WHERE tenant_id = $1`,
      [tenant.rows[0].tenant_id],
    );
    expect(rows.rows[0].n).toBe(1000);
    expect(rows.rows[0].oldest).toBeNull();
  });

  it('documents the protocol in the OpenAPI description', async () => {
    const doc = await t.request('GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    const paths = Object.keys(doc.body.paths as Record<string, unknown>);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}',
        '/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}',
        '/v1/passes/{passTypeIdentifier}/{serialNumber}',
        '/v1/log',
      ]),
    );
  });

  it('gives other modules device counts, push targets and token removal', async () => {
    const devices = t.app.get(AppleDevicesService);
    const campaign = await createCampaign(t, key, cfg.id);
    const [a, b] = [
      await install(t, key, campaign.id, { code: `S-${deviceId()}` }),
      await install(t, key, campaign.id, { code: `S-${deviceId()}` }),
    ];
    const tenantId = (await t.db.query('SELECT tenant_id FROM campaigns WHERE id = $1', [campaign.id]))
      .rows[0].tenant_id as string;
    const [d1, d2, d3] = [deviceId(), deviceId(), deviceId()];
    const [t1, t2] = [pushToken(), pushToken()];
    expect((await register(d1, a, t1)).status).toBe(201);
    expect((await register(d1, b, t1)).status).toBe(201);
    expect((await register(d2, a, t2)).status).toBe(201);
    expect((await register(d3, a, t2)).status).toBe(201);

    expect(await devices.countDevicesByCampaign(tenantId, campaign.id)).toBe(3);
    const otherTenant = await t.createTenant('Other');
    expect(await devices.countDevicesByCampaign(otherTenant.id, campaign.id)).toBe(0);

    const targets = await devices.pushTargetsForPass(a.passId);
    expect(targets).toHaveLength(2);
    expect(targets.map((x) => x.pushToken).sort()).toEqual([t1, t2].sort());
    expect(targets.every((x) => x.passTypeIdentifier === a.passType)).toBe(true);

    // d3 re-registers with a fresh token before the removal: it keeps its registration.
    const t3 = pushToken();
    expect((await register(d3, a, t3)).status).toBe(200);
    const rejected = (
      pushTokens: string[],
      passTypeIdentifier = a.passType,
      walletConfigurationId = cfg.id,
    ) => devices.deleteRegistrationsForPushTokens({ pushTokens, passTypeIdentifier, walletConfigurationId });
    // Rejected under another pass type or another configuration's certificate: nothing of a's goes.
    expect(await rejected([t2], 'pass.com.example.other')).toBe(0);
    expect(await rejected([t2], a.passType, (await createWalletConfiguration(t, key)).id)).toBe(0);
    expect(await rejected([t2.toUpperCase()])).toBe(1);
    expect((await list(d2, a.passType)).status).toBe(204);
    expect((await list(d3, a.passType)).body.serialNumbers).toEqual([a.serial]);
    const gone = await t.db.query('SELECT 1 FROM devices WHERE device_library_identifier = $1', [d2]);
    expect(gone.rowCount).toBe(0);
    expect(await devices.countDevicesByCampaign(tenantId, campaign.id)).toBe(2);
    expect((await devices.pushTargetsForPass(a.passId)).map((x) => x.pushToken).sort()).toEqual(
      [t1, t3].sort(),
    );
    expect(await rejected([pushToken()])).toBe(0);
  });
});

describe('Apple Wallet web service under a base path, with rate limits (e2e)', () => {
  let t: TestApp;
  let key: string;
  let pass: Installed;

  beforeAll(async () => {
    t = await startTestApp({
      PUBLIC_BASE_URL: 'https://wallet.example.test/wallet',
      APPLE_RATE_LIMIT_PER_DEVICE: '5',
      APPLE_RATE_LIMIT_PER_IP: '40',
      // The per-IP test speaks for several clients through X-Forwarded-For, as a proxy on loopback would.
      TRUSTED_PROXIES: 'loopback',
    });
    key = (await t.createTenant()).apiKey;
    const cfg = await createWalletConfiguration(t, key);
    const campaignId = (await createCampaign(t, key, cfg.id)).id;
    const [url] = await makeLinks(t, key, [
      { campaignId, platform: 'APPLE', contact: { id: 'c-base' }, voucher: { code: 'BASE-1' } },
    ]);
    // Links carry the base path; this test app serves at its root.
    const res = await t.request('GET', linkPath(url!).replace(/^\/wallet/, ''));
    expect(res.status).toBe(200);
    const { passJson } = await checkPkpass(res.raw, sharedPki().rootFile);
    expect(passJson.webServiceURL).toBe('https://wallet.example.test/wallet');
    pass = {
      serial: passJson.serialNumber,
      token: passJson.authenticationToken,
      passType: passJson.passTypeIdentifier,
      passId: '',
      lastModified: res.headers.get('last-modified')!,
    };
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the protocol under <base path>/v1 as well as /v1', async () => {
    const device = deviceId();
    const reg = await t.request('POST', `/wallet${registrationPath(device, pass.passType, pass.serial)}`, {
      headers: applePass(pass.token),
      body: { pushToken: pushToken() },
    });
    expect(reg.status).toBe(201);
    const viaBase = await t.request('GET', `/wallet/v1/devices/${device}/registrations/${pass.passType}`);
    expect(viaBase.status).toBe(200);
    expect(viaBase.body.serialNumbers).toEqual([pass.serial]);
    const viaRoot = await t.request('GET', `/v1/devices/${device}/registrations/${pass.passType}`);
    expect(viaRoot.body).toEqual(viaBase.body);
    const got = await t.request('GET', `/wallet/v1/passes/${pass.passType}/${pass.serial}`, {
      headers: applePass(pass.token),
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe(PKPASS);
    expect((await t.request('POST', '//wallet//v1/log', { body: { logs: ['via base'] } })).status).toBe(200);
  });

  it('limits requests per device with 429 and Retry-After, leaving other devices alone', async () => {
    const device = deviceId();
    for (let i = 0; i < 5; i++)
      expect((await t.request('GET', `/v1/devices/${device}/registrations/${pass.passType}`)).status).toBe(
        204,
      );
    const limited = await t.request('GET', `/v1/devices/${device}/registrations/${pass.passType}`);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    // The same device through the other mount point shares the counter.
    expect(
      (await t.request('GET', `/wallet/v1/devices/${device}/registrations/${pass.passType}`)).status,
    ).toBe(429);
    expect((await t.request('GET', `/v1/devices/${deviceId()}/registrations/${pass.passType}`)).status).toBe(
      204,
    );
  });

  it('limits requests per client IP', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.7' };
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) {
      const res = await t.request('GET', `/v1/devices/${deviceId()}/registrations/${pass.passType}`, {
        headers,
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(204));
    expect(statuses[40]).toBe(429);
    const otherIp = await t.request('GET', `/v1/devices/${deviceId()}/registrations/${pass.passType}`, {
      headers: { 'x-forwarded-for': '203.0.113.8' },
    });
    expect(otherIp.status).toBe(204);
  });
});
