import { isIP } from 'node:net';
import { z } from 'zod';

/** The parsed, validated configuration. Nothing outside src/config reads process.env. */
export interface AppConfig {
  nodeEnv: string;
  production: boolean;
  port: number;
  databaseUrl: string;
  migrationsRun: boolean;
  redisUrl: string;
  role: 'api' | 'worker' | 'all';
  publicBaseUrl: string;
  platformAdminToken: string | undefined;
  /** First key signs new links; every key verifies. Empty until dev secrets are resolved. */
  linkSigningKeys: LinkSigningKey[];
  /** 32-byte keys by version; the highest version encrypts. Empty until dev secrets are resolved. */
  secretsEncryptionKeys: EncryptionKey[];
  apnsUrl: string;
  apnsCaFile: string | undefined;
  googleWalletApiUrl: string;
  googleSaveUrl: string;
  googleOauthTokenUrl: string;
  googleRequestTimeoutMs: number;
  /** Google Wallet calls per second per issuer made by campaign-wide object updates (all workers together). */
  googleRequestsPerSecond: number;
  linkBatchLimit: number;
  logLevel: string;
  apiKeyCacheTtlMs: number;
  outboxPollMs: number;
  /** BullMQ key prefix; lets several deployments (or test runs) share one Redis. */
  queuePrefix: string;
  /** Apple web service requests per minute per device library identifier (0 = unlimited). */
  appleRateLimitPerDevice: number;
  /** Apple web service requests per minute per client IP (0 = unlimited). */
  appleRateLimitPerIp: number;
  /** A console session ends after this many minutes without a request. */
  sessionIdleMinutes: number;
  /** A console session ends this many hours after sign-in, however active. */
  sessionMaxHours: number;
  /** Sign-in attempts per minute per email address (0 = unlimited). */
  loginRateLimitPerEmail: number;
  /** Sign-in attempts per minute per client IP (0 = unlimited). */
  loginRateLimitPerIp: number;
  /** Session cookies carry `Secure` (production, or an https PUBLIC_BASE_URL). */
  secureCookies: boolean;
  /** Proxy addresses whose X-Forwarded-For is believed (proxy-addr syntax); empty: none. */
  trustedProxies: string[];
  /** Longest wait for a request's headers, for the whole request (headers and body), and between requests on a kept-alive connection. */
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  /** A socket with no traffic for this long is closed (0: never). */
  httpIdleTimeoutMs: number;
  /** When set, /metrics and /docs need `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** URLs per minute one tenant may request from /pers/v1/urls (0 = unlimited). */
  tenantRateLimitLinkUrls: number;
  /** Requests per minute one tenant may make to /api/v1/** (0 = unlimited). */
  tenantRateLimitApi: number;
  /** Deepest nesting accepted in JSON request bodies (the top-level value is level 1). */
  jsonMaxDepth: number;
  /** Most data rows in one bulk pass update upload. */
  bulkUpdateMaxRows: number;
  /** Webhook URLs may resolve to loopback/private addresses (tests, on-premise receivers). */
  webhookAllowPrivateTargets: boolean;
  /** Longest wait for a webhook receiver's answer. */
  webhookTimeoutMs: number;
  /** First retry delay of a failed webhook delivery; doubles per attempt up to an hour. */
  webhookRetryBaseMs: number;
  /** An endpoint whose deliveries have all failed for this long is disabled. */
  webhookDisableAfterHours: number;
  /** Google's root keys for verifying save/delete callbacks. */
  googleCallbackKeysUrl: string;
  /** Attempts per APNs push (retries with exponential backoff between them) before it counts as failed. */
  pushMaxAttempts: number;
  /** Device log messages per minute per client IP on POST /v1/log (0 = unlimited). */
  appleLogRateLimitPerIp: number;
}

export interface LinkSigningKey {
  kid: string;
  secret: Buffer;
}

export interface EncryptionKey {
  version: number;
  key: Buffer;
}

const boolString = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/wallet'),
  MIGRATIONS_RUN: boolString.default('true'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  PUBLIC_BASE_URL: z.string().url().optional(),
  PLATFORM_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LINK_SIGNING_KEYS: z.string().optional(),
  SECRETS_ENCRYPTION_KEY: z.string().optional(),
  APNS_URL: z.string().url().default('https://api.push.apple.com'),
  APNS_CA_FILE: z.string().optional(),
  GOOGLE_WALLET_API_URL: z.string().url().default('https://walletobjects.googleapis.com/walletobjects/v1'),
  GOOGLE_SAVE_URL: z.string().url().default('https://pay.google.com/gp/v/save'),
  GOOGLE_OAUTH_TOKEN_URL: z.string().url().default('https://oauth2.googleapis.com/token'),
  GOOGLE_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  GOOGLE_REQUESTS_PER_SECOND: z.coerce.number().int().positive().max(10_000).default(20),
  LINK_BATCH_LIMIT: z.coerce.number().int().positive().max(100000).default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5000),
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(500),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
    .default('wallet'),
  APPLE_RATE_LIMIT_PER_DEVICE: z.coerce.number().int().min(0).default(600),
  APPLE_RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(3000),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(10080).default(720),
  SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(8760).default(168),
  LOGIN_RATE_LIMIT_PER_EMAIL: z.coerce.number().int().min(0).default(10),
  LOGIN_RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(60),
  TRUSTED_PROXIES: z.string().optional(),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(65_000),
  HTTP_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TENANT_RATE_LIMIT_LINK_URLS: z.coerce.number().int().min(0).default(600_000),
  TENANT_RATE_LIMIT_API: z.coerce.number().int().min(0).default(6_000),
  JSON_MAX_DEPTH: z.coerce.number().int().min(4).max(1000).default(32),
  BULK_UPDATE_MAX_ROWS: z.coerce.number().int().positive().max(10_000_000).default(1_000_000),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: boolString.default('false'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce.number().positive().max(8760).default(72),
  GOOGLE_CALLBACK_KEYS_URL: z.string().url().default('https://pay.google.com/gp/m/issuer/keys'),
  PUSH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(12).default(12),
  APPLE_LOG_RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(200),
});

export class ConfigError extends Error {}

export function parseLinkSigningKeys(raw: string): LinkSigningKey[] {
  const keys = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const idx = entry.indexOf(':');
      if (idx <= 0 || idx === entry.length - 1) {
        throw new ConfigError('LINK_SIGNING_KEYS: each entry must be "kid:secret"');
      }
      const kid = entry.slice(0, idx);
      const secret = entry.slice(idx + 1);
      if (!/^[A-Za-z0-9._-]{1,32}$/.test(kid)) {
        throw new ConfigError(`LINK_SIGNING_KEYS: kid "${kid}" must be 1-32 characters of A-Z a-z 0-9 . _ -`);
      }
      if (secret.length < 32) {
        throw new ConfigError(
          `LINK_SIGNING_KEYS: the secret for kid "${kid}" must be at least 32 characters`,
        );
      }
      return { kid, secret: Buffer.from(secret, 'utf8') };
    });
  if (keys.length === 0) throw new ConfigError('LINK_SIGNING_KEYS: no key given');
  const kids = new Set(keys.map((k) => k.kid));
  if (kids.size !== keys.length) throw new ConfigError('LINK_SIGNING_KEYS: duplicate kid');
  return keys;
}

/**
 * `SECRETS_ENCRYPTION_KEY` is one base64 32-byte key (version 1), or for rotation
 * `v2:<base64>,v1:<base64>`: the highest version encrypts, every listed version decrypts.
 */
export function parseEncryptionKeys(raw: string): EncryptionKey[] {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const keys = parts.map((part) => {
    const m = /^v(\d{1,5}):(.+)$/.exec(part);
    const version = m ? Number(m[1]) : 1;
    const b64 = m ? m[2]! : part;
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) {
      throw new ConfigError('SECRETS_ENCRYPTION_KEY: each key must be 32 bytes, base64-encoded');
    }
    if (version < 1) throw new ConfigError('SECRETS_ENCRYPTION_KEY: versions start at 1');
    return { version, key };
  });
  if (keys.length === 0) throw new ConfigError('SECRETS_ENCRYPTION_KEY: no key given');
  if (new Set(keys.map((k) => k.version)).size !== keys.length) {
    throw new ConfigError('SECRETS_ENCRYPTION_KEY: duplicate key version');
  }
  return keys.sort((a, b) => b.version - a.version);
}

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `TRUSTED_PROXIES`: comma-separated addresses or CIDRs (IPv4 or IPv6), or the keywords
 * `loopback`, `linklocal`, `uniquelocal`. Anything else stops the start naming the entry.
 */
export function parseTrustedProxies(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (PROXY_KEYWORDS.has(entry)) continue;
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    let ok = family !== 0;
    if (ok && slash !== -1) {
      const bits = entry.slice(slash + 1);
      ok = /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
    }
    if (!ok) {
      throw new ConfigError(
        `TRUSTED_PROXIES: "${entry}" is not an IP address, a CIDR (e.g. 10.0.0.0/8) or one of loopback, linklocal, uniquelocal`,
      );
    }
  }
  return entries;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');

  if (production) {
    const missing: string[] = [];
    if (!e.LINK_SIGNING_KEYS) missing.push('LINK_SIGNING_KEYS');
    if (!e.SECRETS_ENCRYPTION_KEY) missing.push('SECRETS_ENCRYPTION_KEY');
    if (!e.PUBLIC_BASE_URL) missing.push('PUBLIC_BASE_URL');
    else if (!publicBaseUrl.startsWith('https://')) missing.push('PUBLIC_BASE_URL (must be https)');
    if (missing.length > 0) {
      throw new ConfigError(`NODE_ENV=production requires: ${missing.join(', ')}`);
    }
  }
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }

  return {
    nodeEnv: e.NODE_ENV,
    production,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    migrationsRun: e.MIGRATIONS_RUN,
    redisUrl: e.REDIS_URL,
    role: e.ROLE,
    publicBaseUrl,
    platformAdminToken: e.PLATFORM_ADMIN_TOKEN,
    linkSigningKeys: e.LINK_SIGNING_KEYS ? parseLinkSigningKeys(e.LINK_SIGNING_KEYS) : [],
    secretsEncryptionKeys: e.SECRETS_ENCRYPTION_KEY ? parseEncryptionKeys(e.SECRETS_ENCRYPTION_KEY) : [],
    apnsUrl: e.APNS_URL.replace(/\/+$/, ''),
    apnsCaFile: e.APNS_CA_FILE,
    googleWalletApiUrl: e.GOOGLE_WALLET_API_URL.replace(/\/+$/, ''),
    googleSaveUrl: e.GOOGLE_SAVE_URL.replace(/\/+$/, ''),
    googleOauthTokenUrl: e.GOOGLE_OAUTH_TOKEN_URL,
    googleRequestTimeoutMs: e.GOOGLE_REQUEST_TIMEOUT_MS,
    googleRequestsPerSecond: e.GOOGLE_REQUESTS_PER_SECOND,
    linkBatchLimit: e.LINK_BATCH_LIMIT,
    logLevel: e.LOG_LEVEL,
    apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    outboxPollMs: e.OUTBOX_POLL_MS,
    queuePrefix: e.QUEUE_PREFIX,
    appleRateLimitPerDevice: e.APPLE_RATE_LIMIT_PER_DEVICE,
    appleRateLimitPerIp: e.APPLE_RATE_LIMIT_PER_IP,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    sessionMaxHours: e.SESSION_MAX_HOURS,
    loginRateLimitPerEmail: e.LOGIN_RATE_LIMIT_PER_EMAIL,
    loginRateLimitPerIp: e.LOGIN_RATE_LIMIT_PER_IP,
    secureCookies: production || publicBaseUrl.startsWith('https://'),
    trustedProxies: parseTrustedProxies(e.TRUSTED_PROXIES),
    httpHeadersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    httpIdleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    tenantRateLimitLinkUrls: e.TENANT_RATE_LIMIT_LINK_URLS,
    tenantRateLimitApi: e.TENANT_RATE_LIMIT_API,
    jsonMaxDepth: e.JSON_MAX_DEPTH,
    bulkUpdateMaxRows: e.BULK_UPDATE_MAX_ROWS,
    webhookAllowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    webhookRetryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    webhookDisableAfterHours: e.WEBHOOK_DISABLE_AFTER_HOURS,
    googleCallbackKeysUrl: e.GOOGLE_CALLBACK_KEYS_URL,
    pushMaxAttempts: e.PUSH_MAX_ATTEMPTS,
    appleLogRateLimitPerIp: e.APPLE_LOG_RATE_LIMIT_PER_IP,
  };
}
