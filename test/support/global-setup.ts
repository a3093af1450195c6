import { runMigrations } from '../../src/database/prepare-database';
import { databaseUrl, templateDb, withAdmin } from './db';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds this run's migrated template database, which every e2e test file clones. Databases left
 * by runs whose process is gone are dropped; those of runs still going are left alone.
 */
export default async function globalSetup(): Promise<void> {
  process.env.WALLET_TEST_RUN = String(process.pid);
  await withAdmin(async (c) => {
    const all = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'wallet\\_t\\_%' OR datname LIKE 'wallet\\_tpl\\_%'`,
    );
    for (const { datname } of all.rows) {
      const pid = Number(/^wallet_(?:t|tpl)_(\d+)/.exec(datname)?.[1]);
      if (!Number.isFinite(pid) || !alive(pid) || pid === process.pid) {
        await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
    await c.query(`CREATE DATABASE "${templateDb()}"`);
  });
  const quiet = { info: () => undefined, warn: () => undefined };
  await runMigrations(databaseUrl(templateDb()), quiet);
}
