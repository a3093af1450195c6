import { randomBytes } from 'node:crypto';
import {
  ConfigError,
  loadConfig,
  parseEncryptionKeys,
  parseLinkSigningKeys,
  parseTrustedProxies,
} from './app-config';

const key32 = () => randomBytes(32).toString('base64');
const secret = () => randomBytes(32).toString('base64url');

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/wallet',
      redisUrl: 'redis://127.0.0.1:6379',
      role: 'all',
      publicBaseUrl: 'http://localhost:3000',
      platformAdminToken: undefined,
      apnsUrl: 'https://api.push.apple.com',
      googleWalletApiUrl: 'https://walletobjects.googleapis.com/walletobjects/v1',
      googleSaveUrl: 'https://pay.google.com/gp/v/save',
      googleOauthTokenUrl: 'https://oauth2.googleapis.com/token',
      migrationsRun: true,
      linkSigningKeys: [],
      secretsEncryptionKeys: [],
    });
    expect(loadConfig({ PORT: '8080' }).publicBaseUrl).toBe('http://localhost:8080');
  });

  it('refuses production without keys and an https base URL, naming each', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /LINK_SIGNING_KEYS.*SECRETS_ENCRYPTION_KEY.*PUBLIC_BASE_URL/,
    );
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        LINK_SIGNING_KEYS: `a:${secret()}`,
        SECRETS_ENCRYPTION_KEY: key32(),
        PUBLIC_BASE_URL: 'http://x.test',
      }),
    ).toThrow(/PUBLIC_BASE_URL \(must be https\)/);
    const ok = loadConfig({
      NODE_ENV: 'production',
      LINK_SIGNING_KEYS: `a:${secret()}`,
      SECRETS_ENCRYPTION_KEY: key32(),
      PUBLIC_BASE_URL: 'https://wallet.example.com/',
    });
    expect(ok.publicBaseUrl).toBe('https://wallet.example.com');
  });

  it('names invalid variables', () => {
    expect(() => loadConfig({ ROLE: 'cron' })).toThrow(/ROLE/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ MIGRATIONS_RUN: 'maybe' })).toThrow(/MIGRATIONS_RUN/);
    expect(() => loadConfig({ PLATFORM_ADMIN_TOKEN: 'short' })).toThrow(/PLATFORM_ADMIN_TOKEN/);
  });

  it('parses signing keys: first signs, kids unique, secrets long enough', () => {
    const keys = parseLinkSigningKeys(`new:${'n'.repeat(32)},old:${'o'.repeat(40)}`);
    expect(keys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(() => parseLinkSigningKeys('nocolon')).toThrow(ConfigError);
    expect(() => parseLinkSigningKeys(`a:short`)).toThrow(/at least 32/);
    expect(() => parseLinkSigningKeys(`a:${'x'.repeat(32)},a:${'y'.repeat(32)}`)).toThrow(/duplicate/);
  });

  it('parses encryption keys with versions, newest first', () => {
    const [first, second] = parseEncryptionKeys(`v1:${key32()},v2:${key32()}`);
    expect([first!.version, second!.version]).toEqual([2, 1]);
    expect(parseEncryptionKeys(key32())[0]!.version).toBe(1);
    expect(() => parseEncryptionKeys(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });

  it('parses TRUSTED_PROXIES and stops on an entry that is no address, CIDR or keyword', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(parseTrustedProxies(' loopback, 10.0.0.0/8 ,192.0.2.7,fd00::/8 ')).toEqual([
      'loopback',
      '10.0.0.0/8',
      '192.0.2.7',
      'fd00::/8',
    ]);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES: "10.0.0.0\/33"/);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'everyone' })).toThrow(/TRUSTED_PROXIES: "everyone"/);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0/8' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'fd00::/129' })).toThrow(ConfigError);
  });

  it('refuses a header timeout longer than the request timeout', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS/,
    );
  });
});
