import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { createApiApp, createWorkerContext } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createTestDatabase, databaseUrl, dropTestDatabase } from './db';

export const ADMIN_TOKEN = 'test-platform-admin-token-0123456789';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  raw: Buffer;
}

export interface RequestOptions {
  body?: unknown;
  token?: string | null;
  headers?: Record<string, string>;
  redirect?: 'manual' | 'follow';
}

/** Log lines the app wrote, kept in memory so tests can scan them (for secrets, for messages). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (process.env.TEST_LOGS) process.stderr.write(chunk);
    cb();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  url: string;
  app: NestFastifyApplication;
  config: AppConfig;
  dbName: string;
  db: Client;
  logs: LogCapture;
  env: Record<string, string>;
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<HttpResult<T>>;
  createTenant(name?: string): Promise<{ id: string; apiKey: string }>;
  close(): Promise<void>;
}

export function baseEnv(dbName: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: databaseUrl(dbName),
    MIGRATIONS_RUN: 'false',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `wt-${dbName}`,
    PLATFORM_ADMIN_TOKEN: ADMIN_TOKEN,
    LINK_SIGNING_KEYS: `k1:${randomBytes(32).toString('base64url')}`,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

export async function request<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.body !== undefined) {
    if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) body = opts.body;
    else {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const res = await fetch(baseUrl + path, { method, headers, body, redirect: opts.redirect ?? 'manual' });
  const raw = Buffer.from(await res.arrayBuffer());
  const text = raw.toString('utf8');
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text, raw };
}

/** Boots the real app (Fastify, PostgreSQL, Redis) on a random port with its own database. */
export async function startTestApp(
  overrides: Record<string, string> = {},
  dbName?: string,
): Promise<TestApp> {
  const name = dbName ?? (await createTestDatabase());
  const env = baseEnv(name, overrides);
  const config = loadConfig(env);
  const logs = new LogCapture();
  const app = await createApiApp(config, { logDestination: logs });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const db = new Client({ connectionString: databaseUrl(name) });
  await db.connect();
  const t: TestApp = {
    url,
    app,
    config,
    dbName: name,
    db,
    logs,
    env,
    request: (method, path, opts) => request(url, method, path, opts),
    async createTenant(tenantName = 'Test tenant') {
      const res = await request(url, 'POST', '/api/v1/tenants', {
        token: ADMIN_TOKEN,
        body: { name: tenantName },
      });
      if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.text}`);
      return res.body as { id: string; apiKey: string };
    },
    async close() {
      await app.close();
      await db.end();
      if (!dbName) await dropTestDatabase(name);
    },
  };
  return t;
}

/** A worker process in-process (ROLE=worker) against the same database and Redis. */
export async function startTestWorker(
  env: Record<string, string>,
): Promise<{ ctx: INestApplicationContext; logs: LogCapture }> {
  const logs = new LogCapture();
  const ctx = await createWorkerContext(loadConfig({ ...env, ROLE: 'worker' }), { logDestination: logs });
  return { ctx, logs };
}

/** Every PEM private key marker and service-account key field that must never leave the service. */
export const SECRET_PATTERNS = [/PRIVATE KEY-----/, /"private_key"/, /privateKeyPassphrase"\s*:\s*"[^"]/];

export function expectNoSecrets(text: string): void {
  for (const re of SECRET_PATTERNS) {
    if (re.test(text)) throw new Error(`secret material matching ${re} found in: ${text.slice(0, 300)}`);
  }
}
