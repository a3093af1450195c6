import { createCampaign, createWalletConfiguration, makeLinks, sharedPki } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';
import { install, InstalledPass } from './support/wallet-device';

/** POST /v1/log is unauthenticated by Apple's design: bounded per request, per address and per bucket. */
describe('device logs cannot flood (e2e)', () => {
  let t: TestApp;
  let pass: InstalledPass;
  let tenantId: string;
  beforeAll(async () => {
    t = await startTestApp({ APPLE_LOG_RATE_LIMIT_PER_IP: '0' });
    const tenant = await t.createTenant('Logged devices');
    tenantId = tenant.id;
    const cfg = await createWalletConfiguration(t, tenant.apiKey);
    const campaignId = (await createCampaign(t, tenant.apiKey, cfg.id)).id;
    const [url] = await makeLinks(t, tenant.apiKey, [
      { campaignId, platform: 'APPLE', contact: { id: 'c-logs' }, voucher: { code: 'LOGS-1' } },
    ]);
    pass = await install(t, url!, sharedPki().rootFile);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (logs: string[], headers?: Record<string, string>) =>
    t.request('POST', '/v1/log', { body: { logs }, headers });

  it('keeps a tenant bucket apart from messages that name no known pass', async () => {
    const real = `Get pass task (pass type ${pass.passTypeIdentifier}, serial number ${pass.serialNumber}) encountered error: Unexpected response code 500`;
    expect((await post([real])).status).toBe(200);
    for (let batch = 0; batch < 4; batch++) {
      const noise = Array.from(
        { length: 100 },
        (_, i) => `noise ${batch}-${i} serial number NOT-A-SERIAL-${i}`,
      );
      expect((await post(noise)).status).toBe(200);
    }
    const mine = await t.db.query('SELECT message FROM device_logs WHERE tenant_id = $1', [tenantId]);
    expect(mine.rows).toEqual([{ message: real }]);
    const unattributed = await t.db.query(
      'SELECT count(*)::int AS n FROM device_logs WHERE tenant_id IS NULL',
    );
    expect(unattributed.rows[0].n).toBe(200);
  });

  it('stores a repeated message once, with its count', async () => {
    const repeated = `Register task (serial number ${pass.serialNumber}) encountered error: Authentication failure`;
    expect((await post(Array.from({ length: 60 }, () => repeated))).status).toBe(200);
    expect((await post(Array.from({ length: 40 }, () => repeated))).status).toBe(200);
    const rows = await t.db.query(
      'SELECT tenant_id, occurrences::int AS n FROM device_logs WHERE message = $1',
      [repeated],
    );
    expect(rows.rows).toEqual([{ tenant_id: tenantId, n: 100 }]);
  });

  it('refuses a body over 256 KiB before parsing it', async () => {
    const res = await t.request('POST', '/v1/log', {
      body: JSON.stringify({ logs: ['x'.repeat(300 * 1024)] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('writes one log line per request, not one per message', async () => {
    const before = t.logs.lines.length;
    expect((await post(Array.from({ length: 50 }, (_, i) => `one-line-${i}`))).status).toBe(200);
    const written = t.logs.lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    const received = written.filter((l) => l.msg === 'Wallet device logs received');
    expect(received).toEqual([expect.objectContaining({ messages: 50, distinct: 50, unattributed: 50 })]);
    expect(written.filter((l) => JSON.stringify(l).includes('one-line-'))).toHaveLength(1);
  });
});

describe('device log budget per client address (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ APPLE_LOG_RATE_LIMIT_PER_IP: '150' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts messages, not requests, against the address: 429 with Retry-After beyond', async () => {
    const batch = (n: number, tag: string) => ({ logs: Array.from({ length: n }, (_, i) => `${tag}-${i}`) });
    expect((await t.request('POST', '/v1/log', { body: batch(100, 'first') })).status).toBe(200);
    expect((await t.request('POST', '/v1/log', { body: batch(50, 'second') })).status).toBe(200);
    const over = await t.request('POST', '/v1/log', { body: batch(1, 'third') });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('RATE_LIMITED');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const stored = await t.db.query(
      `SELECT count(*)::int AS n FROM device_logs WHERE message LIKE 'third-%'`,
    );
    expect(stored.rows[0].n).toBe(0);
  });
});
