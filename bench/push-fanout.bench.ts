/**
 * Push fan-out of one campaign change to 100,000 registered devices, with one worker process
 * (`ROLE=worker`, the built `dist/src/main.js`) against a fake APNs (HTTP/2 + TLS with client
 * certificates, 500 streams, in its own child process). The change goes through the real API
 * (`PATCH /api/v1/campaigns/:id`), the outbox relay, the fan-out job and 200 batch jobs of 500.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/push-fanout.bench.ts [devices]
 *
 * Prints time from PATCH to the update being DONE, pushes/s, and the worker's peak RSS (VmHWM),
 * for BENCH_RUNS (default 3) fan-outs, each with a fresh worker, and their median time.
 * BENCH_PROFILE_DIR=<dir> makes the worker write a V8 CPU profile (whole run) there on exit.
 * Targets (PERFORMANCE.md): ≤ 10 s for 100,000 devices, worker RSS ≤ 300 MB.
 */
import { execSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createApiApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import { ApnsConnection } from '../src/integrations/apns/apns-connection';
import { ensureDatabaseExists, runMigrations } from '../src/database/prepare-database';
import { startFakeApns, type FakeApns } from '../test/support/fake-apns';
import { campaignBody, createWalletConfiguration, sharedPki } from '../test/support/fixtures';
import { request, type TestApp } from '../test/support/test-app';
import { statCpuMicros } from './lib/proc';
import { TS_HOOK } from './lib/ts-hook';

const CHILD_FLAG = '--fake-apns-child';
const DEVICES = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 100_000);
const PASSES = Math.max(1, Math.floor(DEVICES / 100));
const DB = 'wallet_bench_fanout';
/** Fan-outs of the same campaign, each with a fresh worker (BENCH_RUNS, default 3); the median is reported. */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const ADMIN = 'bench-admin-token-0123456789';

if (process.argv.includes(CHILD_FLAG)) {
  let fake: FakeApns | undefined;
  process.on('message', (msg: { type: string; certPem?: string; keyPem?: string; caPem?: string[] }) => {
    if (msg.type === 'start') {
      void startFakeApns({
        certPem: msg.certPem!,
        keyPem: msg.keyPem!,
        caPem: msg.caPem!,
        maxConcurrentStreams: 500,
        recordPushes: false,
      }).then((f) => {
        fake = f;
        process.send?.({ type: 'ready', port: f.port });
      });
    } else if (msg.type === 'count') {
      process.send?.({ type: 'count', count: fake?.count ?? 0 });
    } else if (msg.type === 'stop') {
      void fake?.close().then(() => process.exit(0));
    }
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

function ask<T>(child: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type === type) {
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

function cpuSeconds(pid: number): number {
  return statCpuMicros(`/proc/${pid}/stat`) / 1e6;
}

function vm(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Starts a `ROLE=worker` process of the built service and waits until it is ready. */
async function startWorker(root: string, env: Record<string, string>): Promise<ChildProcess> {
  // BENCH_PROFILE_DIR: the worker writes a V8 CPU profile there when it exits.
  const profileArgs = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const worker = spawn(process.execPath, [...profileArgs, join(root, 'dist/src/main.js')], {
    env: {
      ...env,
      ROLE: 'worker',
      LOG_LEVEL: 'info',
      PATH: process.env.PATH ?? '',
      // BENCH_WORKER_NODE_OPTIONS: V8/Node flags for the worker (e.g. heap sizes) to compare.
      ...(process.env.BENCH_WORKER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    worker.stdout.on('data', (c: Buffer) => {
      const text = c.toString();
      for (const line of text.split('\n'))
        if (/"level":"(warn|error|fatal)"/.test(line))
          process.stdout.write(`[worker] ${line.slice(0, 400)}\n`);
      if (text.includes('worker started')) resolve();
    }),
  );
  return worker;
}

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  // The worker runs the built service: build it so it is never stale.
  execSync('npm run build', { cwd: root, stdio: 'ignore' });
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${DB}`;
  await ensureDatabaseExists(databaseUrl);
  await runMigrations(databaseUrl, { info: () => undefined, warn: () => undefined });

  // The same test PKI issues the pass certificate (createWalletConfiguration) and the fake's trust.
  const pki = sharedPki();
  const server = pki.issueServerCertificate(['127.0.0.1']);
  const fakeChild = fork(__filename, [CHILD_FLAG], { execArgv: ['-r', TS_HOOK] });
  const { port: apnsPort } = await ask<{ port: number }>(
    fakeChild,
    {
      type: 'start',
      certPem: server.certPem,
      keyPem: server.keyPem,
      caPem: [pki.wwdr.certPem, pki.root.certPem],
    },
    'ready',
  );
  const caFile = join(mkdtempSync(join(tmpdir(), 'bench-ca-')), 'ca.pem');
  writeFileSync(caFile, pki.root.certPem);

  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    MIGRATIONS_RUN: 'false',
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `bench-fanout-${Date.now()}`,
    PLATFORM_ADMIN_TOKEN: ADMIN,
    LINK_SIGNING_KEYS: `b1:${randomBytes(32).toString('base64url')}`,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    APNS_URL: `https://127.0.0.1:${apnsPort}`,
    APNS_CA_FILE: caFile,
    LOG_LEVEL: 'warn',
    OUTBOX_POLL_MS: '100',
  };
  const app = await createApiApp(loadConfig({ ...env, ROLE: 'api', PORT: '0' }));
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const t = { request: (m: string, p: string, o?: object) => request(base, m, p, o) } as unknown as TestApp;

  const tenant = (await request(base, 'POST', '/api/v1/tenants', { token: ADMIN, body: { name: 'Bench' } }))
    .body as { id: string; apiKey: string };
  const cfg = await createWalletConfiguration(t, tenant.apiKey);
  const campaign = (
    await request(base, 'POST', '/api/v1/campaigns', { token: tenant.apiKey, body: campaignBody(cfg.id) })
  ).body as { id: string };

  // Warm the fake APNs up (its JIT, its TLS session): Apple's servers are never cold, and a cold
  // peer sharing the two cores made the first measured run slower than the rest.
  const warm = new ApnsConnection({
    url: `https://127.0.0.1:${apnsPort}`,
    certificatePem: cfg.pass.certificatePem,
    privateKeyPem: cfg.pass.privateKeyPem,
    caPem: pki.root.certPem,
  });
  await Promise.all(
    Array.from({ length: 20_000 }, (_, i) =>
      warm.send(i.toString(16).padStart(64, '0'), cfg.pass.passTypeIdentifier),
    ),
  );
  await warm.close();

  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const seedStart = Date.now();
  await db.query(
    `INSERT INTO passes (tenant_id, campaign_id, identity, serial_number, authentication_token, pass_type_identifier, data, apple_issued_at)
     SELECT $1, $2, 'v:B' || g, md5('s' || g), md5('a' || g) || md5('b' || g), $3, '{"contact":{},"voucher":{}}', now()
       FROM generate_series(1, $4) g`,
    [tenant.id, campaign.id, cfg.pass.passTypeIdentifier, PASSES],
  );
  await db.query(
    `INSERT INTO devices (device_library_identifier)
     SELECT md5('d' || g) FROM generate_series(1, $1) g`,
    [DEVICES],
  );
  await db.query(
    `INSERT INTO registrations (device_id, pass_id, tenant_id, push_token)
     SELECT d.id, p.id, p.tenant_id, md5('t' || d.n) || md5('u' || d.n)
       FROM (SELECT id, row_number() OVER () AS n FROM devices) d
       JOIN (SELECT id, tenant_id, row_number() OVER () - 1 AS k FROM passes WHERE campaign_id = $1) p ON p.k = (d.n % $2)`,
    [campaign.id, PASSES],
  );
  // Vacuumed and checkpointed now, so that neither autovacuum of the fresh rows nor a checkpoint
  // of the seeding runs on the shared cores during the measured fan-outs.
  await db.query('VACUUM ANALYZE');
  await db.query('CHECKPOINT');
  console.log(
    `seeded ${PASSES} passes, ${DEVICES} devices and registrations in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  console.log(
    '| run | devices | status | sent | failed | APNs received | time to DONE | pushes/s | worker CPU | worker RSS idle | worker peak RSS (VmHWM) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const results: { seconds: number; ok: boolean }[] = [];
  let received = (await ask<{ count: number }>(fakeChild, { type: 'count' }, 'count')).count;
  for (let run = 1; run <= RUNS; run++) {
    // A fresh worker per run: its peak RSS (VmHWM) is that run's.
    const worker = await startWorker(root, env);
    const idleRss = vm(worker.pid!, 'VmRSS');
    const cpuBefore = cpuSeconds(worker.pid!);
    const started = Date.now();
    const patch = await request(base, 'PATCH', `/api/v1/campaigns/${campaign.id}`, {
      token: tenant.apiKey,
      body: { template: { ...campaignBody(cfg.id).template, description: `Fan-out benchmark ${run}` } },
    });
    const updateId = (patch.body as { updateId: string }).updateId;
    let progress: { status: string; sent: number; failed: number; total: number | null } = {
      status: 'PENDING',
      sent: 0,
      failed: 0,
      total: null,
    };
    let peakSampled = 0;
    while (progress.status !== 'DONE' && Date.now() - started < 120_000) {
      await new Promise((r) => setTimeout(r, 100));
      peakSampled = Math.max(peakSampled, vm(worker.pid!, 'VmRSS'));
      progress = (
        await request(base, 'GET', `/api/v1/campaigns/${campaign.id}/updates/${updateId}`, {
          token: tenant.apiKey,
        })
      ).body as typeof progress;
    }
    const seconds = (Date.now() - started) / 1000;
    const hwm = vm(worker.pid!, 'VmHWM');
    const workerCpu = cpuSeconds(worker.pid!) - cpuBefore;
    const { count } = await ask<{ count: number }>(fakeChild, { type: 'count' }, 'count');
    results.push({ seconds, ok: progress.status === 'DONE' });
    console.log(
      `| ${run} | ${DEVICES} | ${progress.status} | ${progress.sent} | ${progress.failed} | ${count - received} | ${seconds.toFixed(2)} s | ${Math.round(progress.sent / seconds)} | ${workerCpu.toFixed(1)} s (${Math.round((workerCpu * 1e6) / Math.max(1, progress.sent))} µs/push) | ${idleRss.toFixed(0)} MB | ${hwm.toFixed(0)} MB (sampled ${peakSampled.toFixed(0)} MB) |`,
    );
    received = count;
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
  const times = results.map((r) => r.seconds).sort((a, b) => a - b);
  console.log(
    `\nmedian time to DONE of ${RUNS}: ${times[Math.floor(times.length / 2)]!.toFixed(2)} s; load average ` +
      `${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores shared by API, worker, fake APNs, PostgreSQL, Redis)`,
  );

  await app.close();
  await db.end();
  const fakeExited = new Promise((r) => fakeChild.once('exit', r));
  fakeChild.send({ type: 'stop' });
  await Promise.race([fakeExited, new Promise((r) => setTimeout(r, 5000))]);
  fakeChild.kill();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
