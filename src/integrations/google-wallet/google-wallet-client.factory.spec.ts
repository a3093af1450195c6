import { createServiceAccountKey } from '../../../test/support/certs';
import { startFakeGoogle } from '../../../test/support/fake-google';
import { GoogleWalletClientFactory } from './google-wallet-client.factory';

describe('GoogleWalletClientFactory', () => {
  const account = createServiceAccountKey();
  const endpoints = {
    apiBaseUrl: 'http://127.0.0.1:9/walletobjects/v1',
    tokenUrl: 'http://127.0.0.1:9/token',
    timeoutMs: 500,
  };

  it('keeps one client per configuration while its version stays the same', () => {
    const factory = new GoogleWalletClientFactory();
    const first = factory.get('config-a', 'v1', account.key, endpoints);
    expect(factory.get('config-a', 'v1', account.key, endpoints)).toBe(first);
    expect(factory.get('config-b', 'v1', account.key, endpoints)).not.toBe(first);
  });

  it('replaces the client when the version changes', () => {
    const factory = new GoogleWalletClientFactory();
    const first = factory.get('config-a', 'v1', account.key, endpoints);
    const second = factory.get('config-a', 'v2', createServiceAccountKey().key, endpoints);
    expect(second).not.toBe(first);
    expect(factory.get('config-a', 'v2', account.key, endpoints)).toBe(second);
  });

  it('forgets an evicted configuration', () => {
    const factory = new GoogleWalletClientFactory();
    const first = factory.get('config-a', 'v1', account.key, endpoints);
    factory.evict('config-a');
    expect(factory.get('config-a', 'v1', account.key, endpoints)).not.toBe(first);
  });

  it('lets calls made through the cached client share one access token', async () => {
    const fake = await startFakeGoogle();
    try {
      fake.registerServiceAccount(account.key.client_email, account.publicKeyPem);
      const factory = new GoogleWalletClientFactory();
      const opts = { apiBaseUrl: fake.apiUrl, tokenUrl: fake.tokenUrl, timeoutMs: 2000 };
      const classId = '3388000000012345678.factory_class';

      await factory.get('config-a', 'v1', account.key, opts).insertClass('generic', { id: classId });
      expect(
        await factory.get('config-a', 'v1', account.key, opts).getClass('generic', classId),
      ).toMatchObject({
        id: classId,
      });
      expect(fake.requests.filter((r) => r.path === '/token')).toHaveLength(1);

      await factory.get('config-a', 'v2', account.key, opts).getClass('generic', classId);
      expect(fake.requests.filter((r) => r.path === '/token')).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });
});
