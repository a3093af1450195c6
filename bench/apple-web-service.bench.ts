/**
 * Apple Wallet web service end to end over HTTP: registrations/s with new devices, serial-list
 * latency at 200,000 registrations, and get-pass requests/s. Boots the real app (Fastify,
 * PostgreSQL, Redis) on its own database, seeds 100,000 passes, 100,000 devices and 200,000
 * registrations with SQL, and drives it from a load generator in a child process (keep-alive
 * connections, N concurrent request loops). Prints the EXPLAIN ANALYZE plans of the serial-list
 * query and the registration statement; drops the database at the end.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/apple-web-service.bench.ts
 *
 * BENCH_SECONDS (default 5) per run, BENCH_RUNS (default 3) runs per phase, the median reported; BENCH_CONCURRENCY (default 64) for registrations and
 * get-pass; the serial list runs at 4 (latency) and 16 (throughput) concurrent requests. The first
 * row is the machine's floor: the same load generator against a bare node:http server. CPU per
 * request is accounted for the app, the PostgreSQL backends and the load generator.
 * BENCH_PROFILE=register|list|pass writes a V8 CPU profile of the app during that phase.
 * TEST_PG_URL picks the PostgreSQL server as for the e2e tests (default TCP 127.0.0.1; a Unix
 * socket, `postgres://postgres@localhost/postgres?host=/var/run/postgresql`, is cheaper per query).
 * The per-IP rate limit is raised so the one benchmark client is not limited; the Redis counters
 * still run on every request. Targets (PERFORMANCE.md, 2 cores): registrations ≥ 5,000/s, serial
 * list p99 ≤ 10 ms.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { Client } from 'pg';
import { buildRequest, RawHttpConnection } from './lib/raw-http';
import { postgresCpuByPid, postgresCpuDelta } from './lib/proc';
import { TS_HOOK } from './lib/ts-hook';

interface Target {
  serial: string;
  token: string;
}

type Phase =
  | { kind: 'register'; passType: string; targets: Target[] }
  | { kind: 'list'; passType: string; devices: number; tag: string }
  | { kind: 'pass'; passType: string; targets: Target[] }
  | { kind: 'floor' };

interface LoadJob {
  port: number;
  seconds: number;
  concurrency: number;
  phase: Phase;
}

interface LoadResult {
  requests: number;
  seconds: number;
  statuses: Record<string, number>;
  latenciesMs: number[];
  /** CPU time of the load generator itself while measuring. */
  cpuMs: number;
}

interface PhaseResult extends LoadResult {
  appCpuMs: number;
  pgCpuMs: number;
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const LIST_CONCURRENCY = 16;
/** Not measured: JIT, connection pools and prepared statements settle first. */
const WARMUP_MS = 1500;
/** Runs per phase (BENCH_RUNS, default 3): this shared VM drifts ±20% between runs. */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
/** `register`, `list` or `pass`: write a V8 CPU profile of the app during that phase to BENCH_PROFILE_FILE. */
const PROFILE_PHASE = process.env.BENCH_PROFILE;
const PROFILE_FILE = process.env.BENCH_PROFILE_FILE ?? `apple-web-service-${PROFILE_PHASE}.cpuprofile`;
const PASSES = 100_000;
const DEVICES = 100_000;

const CHILD_FLAG = '--load-generator';

if (process.argv.includes(CHILD_FLAG)) {
  process.once('message', (job: LoadJob) => {
    void runLoad(job, () => process.send!({ type: 'measuring' })).then((result) =>
      process.send!({ type: 'result', result }, () => process.exit(0)),
    );
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

// ---------------------------------------------------------------- load generator (child process)

async function runLoad(job: LoadJob, onMeasuring: () => void): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  // Prepared request heads per target, so that building a request costs the load generator little.
  const authHeaders = new Map<string, Record<string, string>>();
  const applePass = (t: Target) => {
    let h = authHeaders.get(t.token);
    if (!h) authHeaders.set(t.token, (h = { authorization: `ApplePass ${t.token}` }));
    return h;
  };

  // Push tokens made ahead (the load generator's CPU is taken from the same two cores).
  const pushBodies = Array.from({ length: 4096 }, () => `{"pushToken":"${randomBytes(32).toString('hex')}"}`);

  const next = (): Buffer => {
    const phase = job.phase;
    switch (phase.kind) {
      case 'register': {
        const t = pick(phase.targets);
        return buildRequest(
          'POST',
          `/v1/devices/${prefix}${(n++).toString(16).padStart(10, '0')}/registrations/${phase.passType}/${t.serial}`,
          { ...applePass(t), 'content-type': 'application/json' },
          pushBodies[n & 4095],
        );
      }
      case 'list': {
        const device = 1 + Math.floor(Math.random() * phase.devices);
        const since = Math.random() < 0.5 ? `?passesUpdatedSince=${phase.tag}` : '';
        return buildRequest(
          'GET',
          `/v1/devices/${benchDevice(device)}/registrations/${phase.passType}${since}`,
          {},
        );
      }
      case 'pass': {
        const t = pick(phase.targets);
        return buildRequest('GET', `/v1/passes/${phase.passType}/${t.serial}`, applePass(t));
      }
      case 'floor':
        return buildRequest('GET', '/', {});
    }
  };

  const connections = Array.from({ length: job.concurrency }, () => new RawHttpConnection(job.port));
  let connection = 0;

  const warmupEnd = performance.now() + WARMUP_MS;
  const end = warmupEnd + job.seconds * 1000;
  let cpuAtStart = process.cpuUsage();
  const measuring = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    onMeasuring();
  }, WARMUP_MS);
  const loop = async () => {
    const conn = connections[connection++]!;
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      const { status } = await conn.request(next());
      const t1 = performance.now();
      if (t0 >= warmupEnd) {
        statuses[status] = (statuses[status] ?? 0) + 1;
        latenciesMs.push(t1 - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  clearTimeout(measuring);
  const cpu = process.cpuUsage(cpuAtStart);
  for (const c of connections) c.close();
  return {
    requests: latenciesMs.length,
    seconds: (end - warmupEnd) / 1000,
    statuses,
    latenciesMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

function benchDevice(i: number): string {
  return `benchdev${String(i).padStart(8, '0')}`;
}

// ---------------------------------------------------------------- main thread: app, data, report

async function main(): Promise<void> {
  // Imported here so the load generator child loads only what it needs.
  const { createApiApp } = await import('../src/app.factory');
  const { loadConfig } = await import('../src/config/app-config');
  const { REGISTER_SQL, REGISTER_BATCH_SQL, SERIAL_LIST_SQL, SERIAL_LIST_BATCH_SQL } =
    await import('../src/modules/apple-web-service/apple-devices.repository');
  const { databaseUrl, withAdmin } = await import('../test/support/db');
  const { appleBlock, campaignBody, sharedPki } = await import('../test/support/fixtures');
  const { request } = await import('../test/support/test-app');

  const dbName = `wallet_bench_aws_${process.pid}`;
  const pgUrl = new URL(databaseUrl(dbName));
  const pgHost = pgUrl.searchParams.get('host') ?? pgUrl.host;
  const adminToken = randomBytes(24).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: databaseUrl(dbName),
    MIGRATIONS_RUN: 'true',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `bench-aws-${process.pid}`,
    PLATFORM_ADMIN_TOKEN: adminToken,
    LINK_SIGNING_KEYS: `k1:${randomBytes(32).toString('base64url')}`,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    ROLE: 'api',
    APPLE_RATE_LIMIT_PER_IP: process.env.RL_IP ?? '1000000000',
    APPLE_RATE_LIMIT_PER_DEVICE: process.env.RL_DEV ?? '120',
  });
  const appLog: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      appLog.push(chunk.toString('utf8'));
      if (appLog.length > 50) appLog.shift();
      cb();
    },
  });

  const app = await createApiApp(config, { logDestination: sink });
  const db = new Client({ connectionString: databaseUrl(dbName) });
  try {
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const base = `http://127.0.0.1:${port}`;
    await db.connect();

    // Tenant, Apple configuration and campaign through the API, as a customer would make them.
    const tenant = await request(base, 'POST', '/api/v1/tenants', {
      token: adminToken,
      body: { name: 'Bench' },
    });
    const apiKey = tenant.body.apiKey as string;
    const passCert = sharedPki().issuePassCertificate();
    const cfg = await request(base, 'POST', '/api/v1/wallet-configurations', {
      token: apiKey,
      body: { name: 'Bench', apple: appleBlock(passCert) },
    });
    const campaign = await request(base, 'POST', '/api/v1/campaigns', {
      token: apiKey,
      body: campaignBody(cfg.body.id),
    });
    if (campaign.status !== 201) throw new Error(`campaign: ${campaign.status} ${campaign.text}`);
    const passType = passCert.passTypeIdentifier;
    const tenantId = tenant.body.id as string;

    const seedStart = performance.now();
    await db.query(
      `INSERT INTO passes (tenant_id, campaign_id, identity, serial_number, authentication_token,
                           pass_type_identifier, data, apple_issued_at)
       SELECT $1, $2, 'v:B-' || g, 'bench-' || g, md5('token-' || g) || md5('salt-' || g), $3,
              jsonb_build_object('contact', jsonb_build_object('id', 'c-' || g, 'firstName', 'Ada'),
                                 'voucher', jsonb_build_object('code', 'B-' || g, 'value', '10%')),
              now()
         FROM generate_series(1, $4::int) g`,
      [tenantId, campaign.body.id, passType, PASSES],
    );
    await db.query(
      `INSERT INTO devices (device_library_identifier)
       SELECT 'benchdev' || lpad(g::text, 8, '0') FROM generate_series(1, $1::int) g`,
      [DEVICES],
    );
    // Device g holds pass g and pass g + 50,000 (mod 100,000): 200,000 registrations.
    for (const offset of [0, PASSES / 2]) {
      await db.query(
        `INSERT INTO registrations (device_id, pass_id, tenant_id, push_token)
         SELECT d.id, p.id, $1, md5('push-' || g) || md5('token-' || g)
           FROM generate_series(1, $2::int) g
           JOIN devices d ON d.device_library_identifier = 'benchdev' || lpad(g::text, 8, '0')
           JOIN passes p ON p.serial_number = 'bench-' || (((g - 1 + $3::int) % $4::int) + 1)`,
        [tenantId, DEVICES, offset, PASSES],
      );
    }
    // A later change to every tenth pass, so half the listed requests (with this tag) find some.
    const tag = (await db.query<{ seq: string }>(`SELECT wallet_change_horizon()::text AS seq`)).rows[0]!.seq;
    await db.query(`UPDATE passes SET change_seq = wallet_change_tag() WHERE serial_number LIKE 'bench-%0'`);
    await db.query('VACUUM ANALYZE passes');
    await db.query('VACUUM ANALYZE devices');
    await db.query('VACUUM ANALYZE registrations');
    // The seeding's dirty pages are written now rather than by a checkpoint during a measured phase.
    await db.query('CHECKPOINT');
    const counts = (
      await db.query<{ passes: number; devices: number; registrations: number }>(
        `SELECT (SELECT count(*) FROM passes)::int AS passes, (SELECT count(*) FROM devices)::int AS devices,
                (SELECT count(*) FROM registrations)::int AS registrations`,
      )
    ).rows[0]!;
    console.log(
      `Seeded ${counts.passes} passes, ${counts.devices} devices, ${counts.registrations} registrations in ` +
        `${((performance.now() - seedStart) / 1000).toFixed(1)} s; Node ${process.version}, PostgreSQL at ${pgHost}`,
    );

    const targets = (
      await db.query<Target>(
        `SELECT serial_number AS serial, authentication_token AS token FROM passes ORDER BY random() LIMIT 20000`,
      )
    ).rows;

    // The machine's floor: the same load generator against a bare node:http server in this process.
    const floor = createServer((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((resolve) => floor.listen(0, '127.0.0.1', resolve));
    const floorAddress = floor.address();
    const floorPort = typeof floorAddress === 'object' && floorAddress ? floorAddress.port : 0;

    const phases: [string, Phase, number][] = [
      ['floor: bare node:http 204 (no app)', { kind: 'floor' }, CONCURRENCY],
      ['register (new device ids)', { kind: 'register', passType, targets }, CONCURRENCY],
      ['serial list (50% with tag)', { kind: 'list', passType, devices: DEVICES, tag }, 4],
      ['serial list (50% with tag)', { kind: 'list', passType, devices: DEVICES, tag }, LIST_CONCURRENCY],
      ['get pass (signed pkpass)', { kind: 'pass', passType, targets }, CONCURRENCY],
    ];
    console.log(
      `\n${SECONDS} s per phase after ${WARMUP_MS / 1000} s warm-up; load generator in a child process.`,
    );
    console.log(
      'CPU columns: µs of CPU per request in the app process, the PostgreSQL backends and the load generator;\n' +
        '"2-core capacity" = 2 s of CPU per second / their sum (what 2 idle cores would allow; Redis and\n' +
        'PostgreSQL background writers not counted). On a shared machine the measured rate is lower.\n',
    );
    console.log(
      '| phase | concurrency | requests/s (median run) | p50 ms | p99 ms | app µs | PostgreSQL µs | load gen µs | 2-core capacity/s | statuses | requests/s of each run |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, phase, concurrency] of phases) {
      const target = phase.kind === 'floor' ? floorPort : port;
      // RUNS runs per phase; the row shows the median one (by requests/s), the last column all.
      const runs: PhaseResult[] = [];
      for (let i = 0; i < RUNS; i++) {
        runs.push(await load({ port: target, seconds: SECONDS, concurrency, phase }, db, dbName));
      }
      const rate = (x: PhaseResult) => x.requests / x.seconds;
      const r = [...runs].sort((a, b) => rate(a) - rate(b))[Math.floor(runs.length / 2)]!;
      const sorted = Float64Array.from(r.latenciesMs).sort();
      const pct = (p: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
      const perRequest = (ms: number) => (ms * 1000) / r.requests;
      const total = perRequest(r.appCpuMs) + perRequest(r.pgCpuMs) + perRequest(r.cpuMs);
      console.log(
        `| ${name} | ${concurrency} | ${(r.requests / r.seconds).toFixed(0)} | ${pct(50).toFixed(2)} | ` +
          `${pct(99).toFixed(2)} | ${perRequest(r.appCpuMs).toFixed(0)} | ${perRequest(r.pgCpuMs).toFixed(0)} | ` +
          `${perRequest(r.cpuMs).toFixed(0)} | ${(2e6 / total).toFixed(0)} | ${JSON.stringify(r.statuses)} | ` +
          `${runs.map((x) => rate(x).toFixed(0)).join(' / ')} |`,
      );
    }

    floor.close();
    const regs = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM registrations`)).rows[0]!.n;
    console.log(`\nregistrations after the run: ${regs}`);

    await explain(db, 'Serial list', `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${SERIAL_LIST_SQL}`, [
      benchDevice(4242),
      passType,
    ]);
    await explainGeneric(
      db,
      'Serial list batch of 16 devices (as concurrent requests are read)',
      SERIAL_LIST_BATCH_SQL,
      [
        Array.from({ length: 16 }, (_, i) => benchDevice(1000 + i * 37)),
        Array.from({ length: 16 }, () => passType),
      ],
    );
    const pass = (
      await db.query<Target>(
        `SELECT serial_number AS serial, authentication_token AS token FROM passes WHERE serial_number = 'bench-777'`,
      )
    ).rows[0]!;
    await db.query('BEGIN');
    try {
      await explain(
        db,
        'Registration (new device; rolled back)',
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${REGISTER_SQL}`,
        [`explain-${randomBytes(6).toString('hex')}`, 'ab'.repeat(32), pass.serial, passType, pass.token],
      );
      await explain(
        db,
        'Registration (existing device and registration; rolled back)',
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${REGISTER_SQL}`,
        [benchDevice(777), 'cd'.repeat(32), pass.serial, passType, pass.token],
      );
      const batch = (
        await db.query<Target>(
          `SELECT serial_number AS serial, authentication_token AS token FROM passes ORDER BY random() LIMIT 32`,
        )
      ).rows;
      await explainGeneric(
        db,
        'Registration batch of 32 new devices (as concurrent requests are written; rolled back)',
        REGISTER_BATCH_SQL,
        [
          batch.map(() => `explain-${randomBytes(6).toString('hex')}`),
          batch.map(() => randomBytes(32).toString('hex')),
          batch.map((b) => b.serial),
          batch.map(() => passType),
          batch.map((b) => b.token),
        ],
      );
    } finally {
      await db.query('ROLLBACK');
    }
    const errors = appLog.filter((l) => l.includes('"level":"error"'));
    if (errors.length > 0)
      console.log(`\napp errors (last ${errors.length}):\n${errors.join('').slice(0, 2000)}`);
  } finally {
    await db.end().catch(() => undefined);
    await app.close();
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
    sharedPki().cleanup();
  }
}

async function explain(db: Client, title: string, sql: string, params: unknown[]): Promise<void> {
  const rows = await db.query<{ 'QUERY PLAN': string }>(sql, params);
  console.log(`\n${title}:\n${rows.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
}

/**
 * The plan a prepared statement runs with once PostgreSQL switches it to a generic plan (after
 * five executions, when that looks no worse): the one the service's named statements mostly use.
 */
async function explainGeneric(db: Client, title: string, sql: string, params: unknown[]): Promise<void> {
  await db.query(`SET plan_cache_mode = force_generic_plan`);
  await db.query(`PREPARE bench_generic AS ${sql}`);
  try {
    // EXECUTE takes literals: text values and text arrays here.
    const literal = (v: unknown): string =>
      Array.isArray(v)
        ? `ARRAY[${v.map((x) => db.escapeLiteral(String(x))).join(', ')}]::text[]`
        : db.escapeLiteral(String(v));
    const rows = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE bench_generic(${params.map(literal).join(', ')})`,
    );
    console.log(`\n${title} (generic plan):\n${rows.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
  } finally {
    await db.query(`DEALLOCATE bench_generic`);
    await db.query(`RESET plan_cache_mode`);
  }
}

async function ownBackendPid(db: Client): Promise<number> {
  return (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

/**
 * Runs one phase in a child process and accounts CPU while it measures: this process (the app),
 * the PostgreSQL backends of the bench database, and the load generator.
 */
function load(job: LoadJob, db: Client, dbName: string): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [CHILD_FLAG], {
      execArgv: ['-r', TS_HOOK],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let cpuAtStart = process.cpuUsage();
    // The connections serving the app (not autovacuum, not this benchmark's own), µs by pid.
    const backendCpu = async () =>
      postgresCpuByPid(dbName, { clientBackendsOnly: true, excludePids: [await ownBackendPid(db)] });
    let pgAtStart: Promise<Map<number, number>> = Promise.resolve(new Map());
    const profiler = PROFILE_PHASE === job.phase.kind ? new Session() : undefined;
    child.on('message', (msg: { type: 'measuring' } | { type: 'result'; result: LoadResult }) => {
      if (msg.type === 'measuring') {
        cpuAtStart = process.cpuUsage();
        pgAtStart = backendCpu();
        if (profiler) {
          profiler.connect();
          profiler.post('Profiler.enable', () => profiler.post('Profiler.start'));
        }
        return;
      }
      const cpu = process.cpuUsage(cpuAtStart);
      const finish = async () => {
        const [before, after] = [await pgAtStart, await backendCpu()];
        const pgCpuMs = postgresCpuDelta(before, after) / 1000;
        resolve({ ...msg.result, appCpuMs: (cpu.user + cpu.system) / 1000, pgCpuMs });
      };
      if (!profiler) return void finish().catch(reject);
      profiler.post('Profiler.stop', (err, res) => {
        if (!err) writeFileSync(PROFILE_FILE, JSON.stringify(res.profile));
        profiler.disconnect();
        void finish().catch(reject);
      });
    });
    child.once('error', reject);
    child.send(job);
  });
}
