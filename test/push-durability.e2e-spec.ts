import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FakeApns } from './support/fake-apns';
import {
  campaignBody,
  createCampaign,
  createWalletConfiguration,
  makeLinks,
  sharedPki,
  WalletFixture,
} from './support/fixtures';
import { startPrivateRedis, PrivateRedis } from './support/private-redis';
import { spawnService, ServiceProcess } from './support/processes';
import { ADMIN_TOKEN, request, startTestApp, startTestWorker, TestApp } from './support/test-app';
import {
  eventually,
  install,
  InstalledPass,
  newDeviceId,
  newPushToken,
  register,
} from './support/wallet-device';
import { apnsEnv, startApns } from './support/apns';

const DIST_MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');

/** Registers `count` devices for a pass straight in the database (as if each had registered). */
async function seedDevices(t: TestApp, pass: InstalledPass, count: number): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => randomBytes(32).toString('hex'));
  await t.db.query(
    `WITH t AS (SELECT t, md5(random()::text || t) AS dli FROM unnest($1::text[]) AS t),
     d AS (
       INSERT INTO devices (device_library_identifier) SELECT dli FROM t RETURNING id, device_library_identifier)
     INSERT INTO registrations (device_id, pass_id, tenant_id, push_token)
     SELECT d.id, p.id, p.tenant_id, t.t FROM t JOIN d ON d.device_library_identifier = t.dli, passes p
      WHERE p.serial_number = $2`,
    [tokens, pass.serialNumber],
  );
  return tokens;
}

function countByToken(apns: FakeApns, status = 200): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of apns.pushes) if (p.status === status) m.set(p.token, (m.get(p.token) ?? 0) + 1);
  return m;
}

async function waitForUpdate(
  t: TestApp,
  key: string,
  campaignId: string,
  updateId: string,
  timeoutMs = 60000,
) {
  return eventually(
    async () =>
      (await t.request('GET', `/api/v1/campaigns/${campaignId}/updates/${updateId}`, { token: key })).body,
    (u) => u.status === 'DONE' || u.status === 'COALESCED',
    timeoutMs,
    200,
  );
}

describe('push durability (e2e)', () => {
  let apns: FakeApns;
  beforeAll(async () => {
    // Few streams, so what is in flight when a worker dies stays small and measurable.
    apns = await startApns(20);
  });
  afterAll(async () => {
    await apns.close();
  });
  beforeEach(() => {
    apns.pushes.length = 0;
    apns.setDelayMs(0);
  });

  describe('with the worker or Redis away', () => {
    let redis: PrivateRedis;
    let api: TestApp;
    let key: string;
    let cfg: WalletFixture;
    beforeAll(async () => {
      redis = await startPrivateRedis();
      api = await startTestApp({
        ...apnsEnv(apns),
        REDIS_URL: redis.url,
        ROLE: 'api',
        OUTBOX_POLL_MS: '100',
      });
      key = (await api.createTenant()).apiKey;
      cfg = await createWalletConfiguration(api, key);
    });
    afterAll(async () => {
      await api.close();
      await redis.stop();
    });

    it('answers while no worker runs, loses nothing, and coalesces pending campaign updates', async () => {
      const c = await createCampaign(api, key, cfg.id);
      const [url] = await makeLinks(api, key, [
        { campaignId: c.id, platform: 'APPLE', contact: { id: 'w' } },
      ]);
      const pass = await install(api, url!, sharedPki().rootFile);
      const token = newPushToken();
      await register(api, newDeviceId(), pass, token);
      const template = campaignBody(cfg.id).template;
      const first = await api.request('PATCH', `/api/v1/campaigns/${c.id}`, {
        token: key,
        body: { template: { ...template, description: 'one' } },
      });
      const second = await api.request('PATCH', `/api/v1/campaigns/${c.id}`, {
        token: key,
        body: { template: { ...template, description: 'two' } },
      });
      expect([first.status, second.status]).toEqual([200, 200]);
      await new Promise((r) => setTimeout(r, 500));
      expect(apns.pushes).toHaveLength(0);

      const worker = await startTestWorker(api.env);
      try {
        const done = await waitForUpdate(api, key, c.id, second.body.updateId);
        expect(done.status).toBe('DONE');
        const coalesced = await waitForUpdate(api, key, c.id, first.body.updateId);
        expect(coalesced.status).toBe('COALESCED');
        await new Promise((r) => setTimeout(r, 500));
        expect(countByToken(apns).get(token)).toBe(1);
      } finally {
        await worker.ctx.close();
      }
    });

    it('keeps answering with Redis stopped during a PATCH; the push goes out when Redis is back', async () => {
      const worker = await startTestWorker(api.env);
      try {
        const c = await createCampaign(api, key, cfg.id);
        const [url] = await makeLinks(api, key, [
          { campaignId: c.id, platform: 'APPLE', contact: { id: 'r' } },
        ]);
        const pass = await install(api, url!, sharedPki().rootFile);
        const token = newPushToken();
        await register(api, newDeviceId(), pass, token);

        await redis.stop();
        const started = Date.now();
        const res = await api.request('PATCH', `/api/v1/campaigns/${c.id}/passes/${pass.serialNumber}`, {
          token: key,
          body: { voucher: { value: 'while redis is down' } },
        });
        expect(res.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(3000);
        const health = await api.request('GET', '/health');
        expect(health.status).toBe(503);
        expect(health.body).toEqual({ status: 'down' });
        const details = await api.request('GET', '/health/details', { token: ADMIN_TOKEN });
        expect(details.status).toBe(503);
        expect(details.body.components.redis.status).toBe('down');
        await new Promise((r) => setTimeout(r, 1000));
        expect(countByToken(apns).get(token)).toBeUndefined();

        await redis.start();
        const pushes = await eventually(
          async () => countByToken(apns).get(token) ?? 0,
          (n) => n > 0,
          30000,
          200,
        );
        expect(pushes).toBe(1);
      } finally {
        await worker.ctx.close();
      }
    });
  });

  describe('as separate processes', () => {
    // Four service processes boot at once; on a busy 2-core machine that alone can take a minute.
    jest.setTimeout(240_000);
    let t: TestApp;
    let key: string;
    let cfg: WalletFixture;
    const procs: ServiceProcess[] = [];
    let childEnv: Record<string, string>;

    beforeAll(async () => {
      if (!existsSync(DIST_MAIN))
        throw new Error('dist/src/main.js is missing: run `npm run build` (npm test does)');
      t = await startTestApp({ ...apnsEnv(apns), ROLE: 'api' });
      key = (await t.createTenant()).apiKey;
      cfg = await createWalletConfiguration(t, key);
      childEnv = { ...t.env, MIGRATIONS_RUN: 'false', LOG_LEVEL: 'info', OUTBOX_POLL_MS: '100' };
    });
    afterEach(async () => {
      await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    });
    afterAll(async () => {
      await t.close();
    });

    function spawnApi(port: number): ServiceProcess {
      const p = spawnService({ ...childEnv, ROLE: 'api', PORT: String(port) });
      procs.push(p);
      return p;
    }
    function spawnWorker(): ServiceProcess {
      const p = spawnService({ ...childEnv, ROLE: 'worker' });
      procs.push(p);
      return p;
    }

    it('two APIs and two workers push each token exactly once', async () => {
      const c = await createCampaign(t, key, cfg.id);
      const [url] = await makeLinks(t, key, [{ campaignId: c.id, platform: 'APPLE', contact: { id: 'mp' } }]);
      const pass = await install(t, url!, sharedPki().rootFile);
      const tokens = await seedDevices(t, pass, 1200);
      const port1 = 20000 + Math.floor(Math.random() * 20000);
      const apis = [spawnApi(port1), spawnApi(port1 + 1)];
      const workers = [spawnWorker(), spawnWorker()];
      await Promise.all([
        ...apis.map((a) => a.waitFor('wallet-service listening')),
        ...workers.map((w) => w.waitFor('wallet-service worker started')),
      ]);

      const base1 = `http://127.0.0.1:${port1}`;
      const base2 = `http://127.0.0.1:${port1 + 1}`;
      const template = { ...campaignBody(cfg.id).template, description: 'multi-process' };
      const res = await request(base1, 'PATCH', `/api/v1/campaigns/${c.id}`, {
        token: key,
        body: { template },
      });
      expect(res.status).toBe(200);
      const done = await eventually(
        async () =>
          (
            await request(base2, 'GET', `/api/v1/campaigns/${c.id}/updates/${res.body.updateId}`, {
              token: key,
            })
          ).body,
        (u) => u.status === 'DONE',
        60000,
        200,
      );
      expect(done).toMatchObject({ status: 'DONE', total: 1200, sent: 1200, failed: 0 });
      const counts = countByToken(apns);
      expect(tokens.filter((tok) => counts.get(tok) !== 1)).toEqual([]);
      expect(workers.every((w) => w.output.some((l) => l.includes('"level":"error"')))).toBe(false);
    });

    it('a worker killed mid-batch: every push is delivered, repeats only for unacknowledged pushes', async () => {
      const c = await createCampaign(t, key, cfg.id);
      const [url] = await makeLinks(t, key, [
        { campaignId: c.id, platform: 'APPLE', contact: { id: 'kill' } },
      ]);
      const pass = await install(t, url!, sharedPki().rootFile);
      const tokens = await seedDevices(t, pass, 1500);
      apns.setDelayMs(40);
      const w1 = spawnWorker();
      await w1.waitFor('wallet-service worker started');

      const template = { ...campaignBody(cfg.id).template, description: 'crash' };
      const res = await t.request('PATCH', `/api/v1/campaigns/${c.id}`, { token: key, body: { template } });
      await eventually(
        async () => apns.pushes.length,
        (n) => n >= 300,
        30000,
        20,
      );
      await w1.kill('SIGKILL');
      const acceptedBeforeKill = countByToken(apns).size;
      expect(acceptedBeforeKill).toBeLessThan(1500);

      apns.setDelayMs(0);
      const w2 = spawnWorker();
      await w2.waitFor('wallet-service worker started');
      const done = await waitForUpdate(t, key, c.id, res.body.updateId, 90000);
      expect(done.status).toBe('DONE');
      const counts = countByToken(apns);
      expect(tokens.filter((tok) => !counts.has(tok))).toEqual([]);
      const twice = tokens.filter((tok) => (counts.get(tok) ?? 0) > 1).length;
      // At most what was in flight or not yet remembered when the worker died (streams + one slice per batch).
      expect(twice).toBeLessThan(150);
    });
  });
});
