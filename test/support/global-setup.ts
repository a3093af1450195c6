import { runMigrations } from '../../src/database/prepare-database';
import { databaseUrl, TEMPLATE_DB, withAdmin } from './db';

/** Builds the migrated template database that every e2e test file clones. */
export default async function globalSetup(): Promise<void> {
  await withAdmin(async (c) => {
    const stale = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'wallet_t\\_%'`,
    );
    for (const row of stale.rows) await c.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
  });
  const quiet = { info: () => undefined, warn: () => undefined };
  await runMigrations(databaseUrl(TEMPLATE_DB), quiet);
}
