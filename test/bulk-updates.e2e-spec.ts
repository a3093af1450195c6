import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { apnsEnv, startApns } from './support/apns';
import { FakeApns } from './support/fake-apns';
import { FakeGoogle, startFakeGoogle } from './support/fake-google';
import {
  createCampaign,
  createWalletConfiguration,
  linkPath,
  makeLinks,
  sharedPki,
  WalletFixture,
} from './support/fixtures';
import { startTestApp, startTestWorker, TestApp } from './support/test-app';
import {
  eventually,
  fetchPass,
  install,
  InstalledPass,
  newDeviceId,
  newPushToken,
  register,
} from './support/wallet-device';

interface Progress {
  id: string;
  status: string;
  total: number;
  applied: number;
  failed: number;
}

describe('bulk pass updates (e2e)', () => {
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
      // Uploads must arrive within the server's whole-request timeout; on this shared machine a
      // 200,000-row upload can take longer than the default 30 s.
      HTTP_REQUEST_TIMEOUT_MS: '300000',
    });
    const tenant = await t.createTenant();
    key = tenant.apiKey;
    cfg = await createWalletConfiguration(t, key, { google: true, registerWith: google });
    campaignId = (await createCampaign(t, key, cfg.id)).id;
  });
  afterAll(async () => {
    await t.close();
    await apns.close();
    await google.close();
  });

  const base = (campaign = campaignId) => `/api/v1/campaigns/${campaign}/passes/bulk-updates`;

  function upload(
    body: string,
    type = 'text/csv',
    headers: Record<string, string> = {},
    campaign = campaignId,
  ) {
    return t.request('POST', base(campaign), {
      token: key,
      body,
      headers: { 'content-type': type, ...headers },
    });
  }

  async function done(id: string, campaign = campaignId, timeoutMs = 30_000): Promise<Progress> {
    return eventually(
      async () => (await t.request('GET', `${base(campaign)}/${id}`, { token: key })).body as Progress,
      (p) => p.status === 'DONE' || p.status === 'FAILED',
      timeoutMs,
      100,
    );
  }

  async function errorReport(
    id: string,
  ): Promise<{ line: number; error: { code: string; message: string } }[]> {
    const res = await fetch(`${t.url}${base()}/${id}/errors`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    return (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { line: number; error: { code: string; message: string } });
  }

  /** An Apple pass added to Wallet with one registered device. */
  async function installedWithDevice(extra: Record<string, unknown> = {}) {
    const code = `B-${++n}-${randomBytes(3).toString('hex')}`;
    const [url] = await makeLinks(t, key, [
      {
        campaignId,
        platform: 'APPLE',
        contact: { id: `contact-${n}`, firstName: 'Ada', ...extra },
        voucher: { code, value: '10%' },
      },
    ]);
    const pass = await install(t, url!, sharedPki().rootFile);
    const token = newPushToken();
    expect((await register(t, newDeviceId(), pass, token)).status).toBe(201);
    return { pass, token, code, contactId: `contact-${n}` };
  }

  async function passData(pass: InstalledPass) {
    const res = await fetchPass(t, pass);
    expect(res.status).toBe(200);
    const row = await t.db.query('SELECT data FROM passes WHERE serial_number = $1', [pass.serialNumber]);
    return row.rows[0].data as { contact: Record<string, unknown>; voucher: Record<string, unknown> };
  }

  const pushesTo = (token: string) => apns.pushes.filter((p) => p.token === token && p.status === 200).length;

  it('applies a CSV keyed by serial number: data changes, each changed pass pushed once', async () => {
    const a = await installedWithDevice();
    const b = await installedWithDevice();
    const same = await installedWithDevice();
    const csv =
      'serialNumber,voucher.value,contact.firstName\r\n' +
      `${a.pass.serialNumber},25%,Grace\r\n` +
      `${b.pass.serialNumber},30%,\r\n` +
      `${same.pass.serialNumber},10%,Ada\r\n`;
    const res = await upload(csv);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), status: 'QUEUED' });
    const progress = await done(res.body.id);
    expect(progress).toMatchObject({ status: 'DONE', total: 3, applied: 3, failed: 0 });

    expect((await passData(a.pass)).voucher.value).toBe('25%');
    expect((await passData(a.pass)).contact.firstName).toBe('Grace');
    // An empty unquoted field leaves the attribute as it was.
    expect((await passData(b.pass)).contact.firstName).toBe('Ada');
    expect((await passData(b.pass)).voucher.value).toBe('30%');
    await eventually(
      async () => pushesTo(a.token) + pushesTo(b.token),
      (c) => c >= 2,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(pushesTo(a.token)).toBe(1);
    expect(pushesTo(b.token)).toBe(1);
    // Nothing changed for this one: no push.
    expect(pushesTo(same.token)).toBe(0);
    expect(await errorReport(res.body.id)).toEqual([]);
  });

  it('reads RFC 4180 quoting: commas, doubled quotes, line breaks, "" as empty string', async () => {
    const a = await installedWithDevice({ lastName: 'Lovelace' });
    const b = await installedWithDevice();
    const csv =
      '\ufeffvoucher.code,contact.lastName,voucher.title\n' +
      `"${a.code}","",  "said ""hi"", then left"\n`.replace('  "said', '"said') +
      `${b.code},"O'Brien, Jr.","two\nlines"\n`;
    const res = await upload(csv, 'text/csv; charset=utf-8');
    expect(res.status).toBe(202);
    expect(await done(res.body.id)).toMatchObject({ status: 'DONE', total: 2, applied: 2, failed: 0 });
    const da = await passData(a.pass);
    expect(da.contact.lastName).toBe('');
    expect(da.voucher.title).toBe('said "hi", then left');
    const db = await passData(b.pass);
    expect(db.contact.lastName).toBe("O'Brien, Jr.");
    expect(db.voucher.title).toBe('two\nlines');
  });

  it('applies NDJSON keyed by voucher code and contact id, and reports bad rows by line', async () => {
    const a = await installedWithDevice();
    const b = await installedWithDevice();
    const lines = [
      JSON.stringify({ voucherCode: a.code, voucher: { value: '40%', points: 12 } }), // 1 ok
      '{"serialNumber": ', // 2 invalid JSON
      '', // 3 blank: skipped
      JSON.stringify({ contactId: b.contactId, contact: { firstName: 'Linus' } }), // 4 ok
      JSON.stringify({ serialNumber: 'NoSuchSerial123', voucher: { value: '1%' } }), // 5 unknown pass
      JSON.stringify({ voucherCode: a.code, voucher: { code: 'OTHER' } }), // 6 identity change
      JSON.stringify({ voucher: { value: '2%' } }), // 7 no key
      JSON.stringify({ serialNumber: b.pass.serialNumber, voucher: { value: 'x'.repeat(501) } }), // 8 too long
      JSON.stringify({ serialNumber: b.pass.serialNumber, voucherCode: b.code, voucher: { a: 1 } }), // 9 two keys
      JSON.stringify({ serialNumber: b.pass.serialNumber, extra: 1, voucher: { a: 1 } }), // 10 unknown property
      JSON.stringify({ serialNumber: b.pass.serialNumber }), // 11 nothing to change
      JSON.stringify({ serialNumber: b.pass.serialNumber, voucher: { v: 'a\u0000b' } }), // 12 NUL
    ];
    const res = await upload(lines.join('\n'), 'application/x-ndjson');
    expect(res.status).toBe(202);
    const progress = await done(res.body.id);
    expect(progress).toMatchObject({ status: 'DONE', total: 11, applied: 2, failed: 9 });
    const report = await errorReport(res.body.id);
    expect(report.map((r) => [r.line, r.error.code])).toEqual([
      [2, 'INVALID_JSON'],
      [5, 'PASS_NOT_FOUND'],
      [6, 'IDENTITY_IMMUTABLE'],
      [7, 'MISSING_KEY'],
      [8, 'INVALID_VOUCHER'],
      [9, 'INVALID_KEY'],
      [10, 'INVALID_ROW'],
      [11, 'NO_CHANGES'],
      [12, 'INVALID_VOUCHER'],
    ]);
    for (const r of report) expect(r.error.message.length).toBeGreaterThan(5);
    expect((await passData(a.pass)).voucher).toMatchObject({ value: '40%', points: 12, code: a.code });
    expect((await passData(b.pass)).contact.firstName).toBe('Linus');
  });

  it('merges several rows for one pass in line order and pushes it once', async () => {
    const a = await installedWithDevice();
    const csv =
      'serialNumber,voucher.value,voucher.title\n' +
      `${a.pass.serialNumber},1%,first\n` +
      `${a.pass.serialNumber},2%,\n` +
      `${a.pass.serialNumber},3%,\n`;
    const res = await upload(csv);
    expect(await done(res.body.id)).toMatchObject({ status: 'DONE', total: 3, applied: 3, failed: 0 });
    expect((await passData(a.pass)).voucher).toMatchObject({ value: '3%', title: 'first' });
    await eventually(
      async () => pushesTo(a.token),
      (c) => c >= 1,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(pushesTo(a.token)).toBe(1);
  });

  it('refuses bad headers, other media types and empty uploads with a 4xx naming the problem', async () => {
    const noKey = await upload('voucher.value\n1\n');
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.message).toMatch(/key column/);
    const unknown = await upload('serialNumber,price\nabc,1\n');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/price/);
    const twoKeys = await upload('serialNumber,voucher.code,voucher.x\na,b,c\n');
    expect(twoKeys.status).toBe(400);
    expect((await upload('')).status).toBe(400);
    expect((await upload('serialNumber,voucher.value\n')).status).toBe(400);
    const json = await t.request('POST', base(), { token: key, body: { rows: [] } });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const latin1 = await upload('serialNumber,voucher.value\na,1\n', 'text/csv; charset=iso-8859-1');
    expect(latin1.status).toBe(415);
    const badKey = await upload('serialNumber,voucher.value\na,1\n', 'text/csv', { 'idempotency-key': 'ä' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.fields[0].field).toBe('Idempotency-Key');
  });

  it('answers the same update for the same Idempotency-Key and upload, 422 for a different upload', async () => {
    const a = await installedWithDevice();
    const csv = `serialNumber,voucher.value\n${a.pass.serialNumber},55%\n`;
    const idem = `key-${randomBytes(6).toString('hex')}`;
    const first = await upload(csv, 'text/csv', { 'idempotency-key': idem });
    expect(first.status).toBe(202);
    const again = await upload(csv, 'text/csv', { 'idempotency-key': idem });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    const other = await upload(`serialNumber,voucher.value\n${a.pass.serialNumber},56%\n`, 'text/csv', {
      'idempotency-key': idem,
    });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await done(first.body.id)).toMatchObject({ status: 'DONE', applied: 1 });
    const replay = await upload(csv, 'text/csv', { 'idempotency-key': idem });
    expect(replay.body).toEqual({ id: first.body.id, status: 'DONE' });
    // Only one update ran: pushed once, value of the first upload.
    await new Promise((r) => setTimeout(r, 500));
    expect(pushesTo(a.token)).toBe(1);
    expect((await passData(a.pass)).voucher.value).toBe('55%');
    // Another tenant's key space is its own.
    const other2 = await t.createTenant();
    const cfg2 = await createWalletConfiguration(t, other2.apiKey);
    const c2 = await createCampaign(t, other2.apiKey, cfg2.id);
    const theirs = await t.request('POST', base(c2.id), {
      token: other2.apiKey,
      body: 'serialNumber,voucher.value\nabc,1\n',
      headers: { 'content-type': 'text/csv', 'idempotency-key': idem },
    });
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it("keeps tenants apart: another tenant's campaign and update answer 404", async () => {
    const res = await upload('serialNumber,voucher.value\nabc,1\n');
    expect(res.status).toBe(202);
    const other = await t.createTenant();
    const post = await t.request('POST', base(), {
      token: other.apiKey,
      body: 'serialNumber,voucher.value\nabc,1\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(post.status).toBe(404);
    expect((await t.request('GET', `${base()}/${res.body.id}`, { token: other.apiKey })).status).toBe(404);
    expect((await t.request('GET', `${base()}/${res.body.id}/errors`, { token: other.apiKey })).status).toBe(
      404,
    );
    const missing = await t.request('GET', `${base()}/00000000-0000-4000-8000-000000000000`, { token: key });
    expect(missing.status).toBe(404);
  });

  it('patches the Google object of every changed saved pass once', async () => {
    const codes = Array.from({ length: 3 }, (_, i) => `G-${i}-${randomBytes(4).toString('hex')}`);
    const urls = await makeLinks(
      t,
      key,
      codes.map((code, i) => ({
        campaignId,
        platform: 'GOOGLE',
        contact: { id: `g${i}` },
        voucher: { code, value: '1%' },
      })),
    );
    for (const url of urls) expect((await t.request('GET', linkPath(url))).status).toBe(302);
    const rows = await t.db.query<{ google_object_id: string }>(
      `SELECT google_object_id FROM passes WHERE campaign_id = $1 AND identity = ANY($2::text[])`,
      [campaignId, codes.map((c) => `v:${c}`)],
    );
    const objectIds = rows.rows.map((r) => r.google_object_id);
    expect(objectIds).toHaveLength(3);
    const before = google.requests.length;
    const ndjson = codes
      .map((code) => JSON.stringify({ voucherCode: code, voucher: { value: '9%' } }))
      .join('\n');
    const res = await upload(`${ndjson}\n`, 'application/x-ndjson');
    expect(await done(res.body.id)).toMatchObject({ status: 'DONE', applied: 3 });
    for (const id of objectIds) {
      await eventually(
        async () => JSON.stringify(google.objects.get(id)),
        (s) => s.includes('9%'),
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const id of objectIds) {
      const patches = google.requests
        .slice(before)
        .filter((r) => r.method === 'PATCH' && decodeURIComponent(r.path).endsWith(`/${id}`));
      expect(patches).toHaveLength(1);
    }
  });

  it('streams a 200,000-row upload with bounded memory, merges it to its passes and pushes each once', async () => {
    const passes = await Promise.all(Array.from({ length: 5 }, () => installedWithDevice()));
    const rows = 200_000;
    const pad = 'p'.repeat(20);
    let i = 0;
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i === 0) controller.enqueue(encoder.encode('serialNumber,voucher.value,voucher.note\n'));
        let chunk = '';
        for (let k = 0; k < 2000 && i < rows; k++, i++) {
          chunk += `${passes[i % passes.length]!.pass.serialNumber},v${i},${pad}\n`;
        }
        if (chunk) controller.enqueue(encoder.encode(chunk));
        if (i >= rows) controller.close();
      },
    });
    // The app runs in this process: its live heap (after a full collection) is sampled while the
    // upload streams in. Buffering the body would keep all of it (8 MB, as a JS string up to twice
    // that) plus 200,000 parsed rows alive.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage();
    let peakHeap = baseline.heapUsed;
    let peakRss = baseline.rss;
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 1000);
    const started = Date.now();
    const res = await fetch(t.url + base(), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
      body: stream,
      duplex: 'half',
    });
    clearInterval(sampler);
    const body = (await res.json()) as { id: string };
    expect(res.status).toBe(202);
    const heapGrowthMb = (peakHeap - baseline.heapUsed) / 1024 / 1024;
    const rssGrowthMb = (peakRss - baseline.rss) / 1024 / 1024;
    console.log(
      `200,000 rows (${((rows * 45) / 1024 / 1024).toFixed(0)} MB) received in ${Date.now() - started} ms: ` +
        `live heap +${heapGrowthMb.toFixed(1)} MB, RSS +${rssGrowthMb.toFixed(1)} MB`,
    );
    expect(heapGrowthMb).toBeLessThan(12);
    const progress = await done(body.id, campaignId, 60_000);
    expect(progress).toMatchObject({ status: 'DONE', total: rows, applied: rows, failed: 0 });
    for (const [k, p] of passes.entries()) {
      // The last row of each pass wins.
      const last = rows - passes.length + k;
      expect((await passData(p.pass)).voucher.value).toBe(`v${last}`);
    }
    await eventually(
      async () => passes.reduce((s, p) => s + pushesTo(p.token), 0),
      (c) => c >= passes.length,
    );
    await new Promise((r) => setTimeout(r, 500));
    for (const p of passes) expect(pushesTo(p.token)).toBe(1);
  }, 120_000);

  it('refuses more rows than BULK_UPDATE_MAX_ROWS with 413 and keeps nothing', async () => {
    const small = await startTestApp({ ...t.env, BULK_UPDATE_MAX_ROWS: '3', ROLE: 'api' }, t.dbName);
    try {
      const res = await small.request('POST', base(), {
        token: key,
        body: 'serialNumber,voucher.value\na,1\nb,2\nc,3\nd,4\n',
        headers: { 'content-type': 'text/csv' },
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('BULK_UPDATE_TOO_LARGE');
      const left = await t.db.query(`SELECT count(*)::int AS n FROM bulk_updates WHERE status = 'RECEIVING'`);
      expect(left.rows[0].n).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('resumes after the worker stops mid-way: every row applied, no pass changed twice', async () => {
    // Its own app (API only) and database, so that only the workers started here apply updates.
    const api = await startTestApp({ ...apnsEnv(apns), ROLE: 'api', OUTBOX_POLL_MS: '100' });
    const tenant = await api.createTenant();
    const own = await createCampaign(
      api,
      tenant.apiKey,
      (await createWalletConfiguration(api, tenant.apiKey)).id,
    );
    const count = 20_000;
    await api.db.query(
      `INSERT INTO passes (tenant_id, campaign_id, identity, serial_number, authentication_token, pass_type_identifier, data)
       SELECT $1, $2, 'v:R' || g, 'R' || g, md5('a' || g), 'pass.example', jsonb_build_object('contact', '{}'::jsonb, 'voucher', jsonb_build_object('code', 'R' || g))
         FROM generate_series(1, $3) g`,
      [tenant.id, own.id, count],
    );
    const ndjson = Array.from({ length: count }, (_, g) =>
      JSON.stringify({ voucherCode: `R${g + 1}`, voucher: { balance: g + 1 } }),
    ).join('\n');
    const workers: Awaited<ReturnType<typeof startTestWorker>>[] = [];
    try {
      const res = await api.request('POST', base(own.id), {
        token: tenant.apiKey,
        body: ndjson,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(res.status).toBe(202);
      const progressOf = async () =>
        (await api.request('GET', `${base(own.id)}/${res.body.id}`, { token: tenant.apiKey }))
          .body as Progress;
      workers.push(await startTestWorker(api.env));
      const mid = await eventually(progressOf, (p) => p.applied > 0, 30_000, 10);
      await workers.pop()!.ctx.close();
      const stopped = await progressOf();
      expect(mid.applied).toBeGreaterThan(0);
      expect(stopped.status).toBe('RUNNING');
      expect(stopped.applied).toBeLessThan(count);
      workers.push(await startTestWorker(api.env));
      const final = await eventually(progressOf, (p) => p.status === 'DONE', 60_000, 200);
      expect(final).toMatchObject({ status: 'DONE', total: count, applied: count, failed: 0 });
      const wrong = await api.db.query(
        `SELECT count(*)::int AS n FROM passes WHERE campaign_id = $1
            AND (data->'voucher'->>'balance')::int IS DISTINCT FROM substr(identity, 4)::int`,
        [own.id],
      );
      expect(wrong.rows[0].n).toBe(0);
      // Each pass was in exactly one applied batch's fan-out.
      const fanned = await api.db.query(
        `SELECT count(*)::int AS n, count(DISTINCT p)::int AS d
           FROM outbox, jsonb_array_elements_text(payload->'passIds') p
          WHERE topic = 'bulk.fanout' AND payload->>'bulkUpdateId' = $1`,
        [res.body.id],
      );
      expect(fanned.rows[0]).toEqual({ n: count, d: count });
    } finally {
      for (const w of workers) await w.ctx.close();
      await api.close();
    }
  }, 120_000);
});
