import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { AppConfig, parseEncryptionKeys, parseLinkSigningKeys } from '../config/app-config';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Creates the database named in DATABASE_URL when it does not exist yet. */
export async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const dbName = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!dbName) throw new Error('DATABASE_URL names no database');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another replica created it at the same moment.
      if ((err as { code?: string }).code !== '42P04' && (err as { code?: string }).code !== '23505')
        throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

export function createDataSource(databaseUrl: string, extra: Partial<{ poolSize: number }> = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize: extra.poolSize ?? 2,
  });
}

/** Runs pending migrations under an advisory lock, so replicas starting together migrate once. */
export async function runMigrations(databaseUrl: string, log: Logger): Promise<void> {
  const ds = createDataSource(databaseUrl);
  await ds.initialize();
  try {
    const qr = ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.query('SELECT pg_advisory_lock(72616273)');
      const applied = await ds.runMigrations({ transaction: 'each' });
      if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
    } finally {
      await qr.query('SELECT pg_advisory_unlock(72616273)').catch(() => undefined);
      await qr.release();
    }
  } finally {
    await ds.destroy();
  }
}

/**
 * Outside production, missing LINK_SIGNING_KEYS / SECRETS_ENCRYPTION_KEY are generated once and
 * kept in the database (table system_secrets), so every replica and every restart uses the same
 * keys. In production their absence already stopped the start in loadConfig.
 */
export async function resolveDevelopmentSecrets(config: AppConfig, log: Logger): Promise<void> {
  if (config.linkSigningKeys.length > 0 && config.secretsEncryptionKeys.length > 0) return;
  const client = new Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    const getOrCreate = async (name: string, make: () => string): Promise<string> => {
      const inserted = await client.query(
        'INSERT INTO system_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value',
        [name, make()],
      );
      if (inserted.rowCount)
        log.warn({ secret: name }, `generated a development ${name}; set it explicitly in production`);
      const { rows } = await client.query<{ value: string }>(
        'SELECT value FROM system_secrets WHERE name = $1',
        [name],
      );
      return rows[0]!.value;
    };
    if (config.linkSigningKeys.length === 0) {
      const raw = await getOrCreate(
        'LINK_SIGNING_KEYS',
        () => `dev1:${randomBytes(32).toString('base64url')}`,
      );
      config.linkSigningKeys = parseLinkSigningKeys(raw);
      log.warn({}, 'LINK_SIGNING_KEYS not set: using the development key stored in the database');
    }
    if (config.secretsEncryptionKeys.length === 0) {
      const raw = await getOrCreate('SECRETS_ENCRYPTION_KEY', () => randomBytes(32).toString('base64'));
      config.secretsEncryptionKeys = parseEncryptionKeys(raw);
      log.warn({}, 'SECRETS_ENCRYPTION_KEY not set: using the development key stored in the database');
    }
  } finally {
    await client.end();
  }
}
