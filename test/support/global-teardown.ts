import { runId, withAdmin } from './db';

/** Drops this run's databases (its template and any a test file left behind). */
export default async function globalTeardown(): Promise<void> {
  const run = runId();
  await withAdmin(async (c) => {
    const rows = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
      [`wallet_tpl_${run}`, `wallet\\_t\\_${run}\\_%`],
    );
    for (const r of rows.rows) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  });
}
