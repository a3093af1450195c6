import { Client } from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/**
 * One jest run = one run id (the jest parent's pid, set by global-setup and inherited by the
 * workers), so several runs on one machine do not touch each other's databases.
 */
export function runId(): string {
  return process.env.WALLET_TEST_RUN ?? String(process.ppid);
}

export function templateDb(): string {
  return `wallet_tpl_${runId()}`;
}

export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let n = 0;
/** A fresh database cloned from the migrated template: each test file gets its own. */
export async function createTestDatabase(): Promise<string> {
  const name = `wallet_t_${runId()}_${process.pid}_${Date.now().toString(36)}_${n++}`;
  await withAdmin(async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDb()}"`);
        return;
      } catch (err) {
        // Two files cloning at the same instant: "source database is being accessed by other users".
        if ((err as { code?: string }).code === '55006' && attempt < 50) {
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
          continue;
        }
        throw err;
      }
    }
  });
  return name;
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
