import { loadConfig } from '../config/app-config';
import { ensureDatabaseExists, runMigrations } from './prepare-database';

/** `npm run migration:run`: creates the database if needed and applies pending migrations (advisory-locked). */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = {
    info: (obj: object, msg: string) => process.stdout.write(`${msg} ${JSON.stringify(obj)}\n`),
    warn: (obj: object, msg: string) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
  };
  if (await ensureDatabaseExists(config.databaseUrl)) log.info({}, 'created database');
  await runMigrations(config.databaseUrl, log);
  log.info({}, 'migrations are up to date');
}

main().catch((err: unknown) => {
  process.stderr.write(`migration failed: ${(err as Error).message}\n`);
  process.exit(1);
});
