import { withAdmin } from './db';

export default async function globalTeardown(): Promise<void> {
  await withAdmin(async (c) => {
    const rows = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'wallet_t\\_%'`,
    );
    for (const r of rows.rows) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  });
}
