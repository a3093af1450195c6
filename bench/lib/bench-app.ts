/**
 * Boots the real API app (ROLE=api, LOG_LEVEL=warn, 127.0.0.1, random port) in its own child
 * process against its own database `wallet_bench_<name>`, created and migrated here and dropped by
 * `stop()`. Fixtures (tenant, wallet configuration, campaign) go over HTTP like a client's would.
 *
 * `profile(fn)` records a V8 CPU profile of the app process while `fn` runs (see cpu-profile.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ensureDatabaseExists, runMigrations } from '../../src/database/prepare-database';
import { databaseUrl, withAdmin } from '../../test/support/db';
import { createCampaign, createWalletConfiguration, type WalletFixture } from '../../test/support/fixtures';
import { request, type HttpResult, type RequestOptions, type TestApp } from '../../test/support/test-app';
import type { AppProcessStats, ChildMessage, ParentMessage } from './app-server';
import { TS_HOOK } from './ts-hook';

export const BENCH_ADMIN_TOKEN = 'bench-platform-admin-token-0123456789';
const APP_SERVER = join(__dirname, 'app-server.ts');
const START_TIMEOUT_MS = 120_000;

export interface BenchAppOptions {
  /** Short name: the database is `wallet_bench_<name>`. */
  name: string;
  /** Extra or overriding app environment. */
  env?: Record<string, string>;
}

export interface BenchApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  dbName: string;
  databaseUrl: string;
  env: Record<string, string>;
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<HttpResult<T>>;
  /** CPU and memory of the app process now. */
  stats(): Promise<AppProcessStats>;
  createTenant(name?: string): Promise<{ id: string; apiKey: string }>;
  /** Runs `fn` with the app's CPU profiler on; resolves to fn's result and the .cpuprofile path. */
  profile<T>(label: string, fn: () => Promise<T>): Promise<{ result: T; profilePath: string }>;
  /** Stops the app and drops its database. */
  stop(): Promise<void>;
}

/** Plain fetch-based request, for setup and sanity checks (the load itself goes through node:http). */
export const httpRequest = request;

function benchDbName(name: string): string {
  return `wallet_bench_${name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}

async function dropDatabase(dbName: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
}

function appEnv(dbName: string, overrides: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    ROLE: 'api',
    LOG_LEVEL: 'warn',
    PORT: '0',
    PUBLIC_BASE_URL: 'https://wallet.bench.example',
    DATABASE_URL: databaseUrl(dbName),
    MIGRATIONS_RUN: 'false',
    REDIS_URL: process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `wb-${dbName}`,
    PLATFORM_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    LINK_SIGNING_KEYS: `b1:${randomBytes(32).toString('base64url')}`,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...overrides,
  };
}

/** Waits for one message of the given type from the child (or its death). */
function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  types: T[],
  timeoutMs: number,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (msg: ChildMessage) => {
      if (!(types as string[]).includes(msg.type)) return;
      cleanup();
      resolve(msg as Extract<ChildMessage, { type: T }>);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(
        new Error(`app process exited (code ${code}, signal ${signal}) while waiting for ${types.join('/')}`),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`app process sent no ${types.join('/')} within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startBenchApp(opts: BenchAppOptions): Promise<BenchApp> {
  const dbName = benchDbName(opts.name);
  const dbUrl = databaseUrl(dbName);
  // A run that was killed may have left its database behind.
  await dropDatabase(dbName);
  await ensureDatabaseExists(dbUrl);
  await runMigrations(dbUrl, { info: () => undefined, warn: (obj, msg) => console.warn(msg, obj) });

  const env = appEnv(dbName, opts.env ?? {});
  const child = fork(APP_SERVER, [], {
    execArgv: ['-r', TS_HOOK],
    // The app reads its configuration from the start message only; stdout/stderr are shared so
    // that warnings and crashes show up in the bench output.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  /** Sends a message and waits for one of the reply types (listening starts before any reply can arrive). */
  const ask = <T extends ChildMessage['type']>(msg: ParentMessage, replies: T[], timeoutMs: number) => {
    if (!child.connected) return Promise.reject(new Error('the app process has exited'));
    child.send(msg);
    return nextMessage(child, replies, timeoutMs);
  };
  let stopped = false;
  const onSignal = () => {
    void stop().finally(() => process.exit(130));
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // The child may be on its way out already (Ctrl-C reaches the whole process group).
      if (child.connected) {
        child.send({ type: 'stop' } satisfies ParentMessage, (err) => err && child.kill('SIGTERM'));
      } else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await dropDatabase(dbName);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let port: number;
  try {
    const msg = await ask({ type: 'start', env }, ['ready', 'failed'], START_TIMEOUT_MS);
    if (msg.type === 'failed') throw new Error(`the app did not start:\n${msg.message}`);
    port = msg.port;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  const app: BenchApp = {
    url,
    port,
    pid: child.pid ?? -1,
    dbName,
    databaseUrl: dbUrl,
    env,
    request: (method, path, ropts) => httpRequest(url, method, path, ropts),
    async stats() {
      const { type: _type, ...stats } = await ask({ type: 'stats' }, ['stats'], 10_000);
      return stats;
    },
    async createTenant(name = 'Bench tenant') {
      const res = await httpRequest(url, 'POST', '/api/v1/tenants', {
        token: BENCH_ADMIN_TOKEN,
        body: { name },
      });
      if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.text}`);
      return res.body as { id: string; apiKey: string };
    },
    async profile(label, fn) {
      await ask({ type: 'profile-start' }, ['profile-started'], 10_000);
      const dir = mkdtempSync(join(tmpdir(), 'wallet-bench-prof-'));
      const profilePath = join(dir, `${opts.name}-${label.replace(/[^A-Za-z0-9]+/g, '-')}.cpuprofile`);
      const stopProfile = () => ask({ type: 'profile-stop', path: profilePath }, ['profile-saved'], 60_000);
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn();
      } catch (err) {
        await stopProfile().catch(() => undefined);
        throw err;
      }
      const saved = await stopProfile();
      if (saved.error) throw new Error(`CPU profile not saved: ${saved.error}`);
      return { result, profilePath };
    },
    stop,
  };
  return app;
}

/**
 * The test fixtures (test/support/fixtures.ts) take a TestApp but only call its `request`; this
 * hands them the bench app's.
 */
function fixtureApp(app: BenchApp): TestApp {
  return { request: app.request } as unknown as TestApp;
}

export interface BenchCampaign {
  tenantId: string;
  apiKey: string;
  wallet: WalletFixture;
  campaignId: string;
}

/**
 * A tenant, an Apple wallet configuration (certificates from a throwaway test PKI made with
 * openssl) and a campaign, all over HTTP. `campaign` overrides fields of the fixture campaign body,
 * e.g. `images`.
 */
export async function createBenchCampaign(
  app: BenchApp,
  campaign: Record<string, unknown> = {},
): Promise<BenchCampaign> {
  const tenant = await app.createTenant();
  const wallet = await createWalletConfiguration(fixtureApp(app), tenant.apiKey);
  const created = await createCampaign(fixtureApp(app), tenant.apiKey, wallet.id, campaign);
  return { tenantId: tenant.id, apiKey: tenant.apiKey, wallet, campaignId: created.id };
}
