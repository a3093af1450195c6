import { randomBytes, randomUUID } from 'node:crypto';
import type { AppConfig } from '../../config/app-config';
import { LinksService } from './links.service';

describe('LinksService.generateJson', () => {
  const config = {
    linkSigningKeys: [{ kid: 'k1', secret: randomBytes(32) }],
    publicBaseUrl: 'https://wallet.example.test/odd"path\\x',
    linkBatchLimit: 1000,
  } as unknown as AppConfig;
  const service = new LinksService(config);
  const campaignId = randomUUID();
  const body = {
    requests: [
      {
        campaignId,
        platform: 'APPLE',
        contact: { id: 'c-1', firstName: 'Zoë "Z"' },
        voucher: { code: 'A-1' },
      },
      { campaignId, platform: 'FAX', contact: { id: 'c-2' } },
    ],
  };

  it('writes the same answer JSON.stringify would, escaping the prefix', () => {
    const text = service.generateJson('tenant-1', body);
    const parsed = JSON.parse(text) as { urls: ({ url: string } | { error: { code: string } })[] };
    expect(parsed.urls).toHaveLength(2);
    const first = parsed.urls[0] as { url: string };
    expect(first.url.startsWith('https://wallet.example.test/odd"path\\x/api/pass/create/')).toBe(true);
    const claims = service.verify(first.url.split('/').pop()!);
    expect(claims).toMatchObject({
      tenantId: 'tenant-1',
      campaignId,
      platform: 'APPLE',
      contact: { firstName: 'Zoë "Z"' },
    });
    expect((parsed.urls[1] as { error: { code: string } }).error.code).toBe('INVALID_PLATFORM');
  });

  it('refuses a body without a requests array', () => {
    expect(() => service.generateJson('t', { requests: 'x' })).toThrow(/requests/);
  });
});
