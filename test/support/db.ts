import { Client } from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEMPLATE_DB = 'wallet_test_template';

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
  const name = `wallet_t_${process.pid}_${Date.now().toString(36)}_${n++}`;
  await withAdmin(async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`);
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
