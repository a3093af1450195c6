import { LinkRequestErrorCode, validateLinkRequest } from './link-request.validator';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const CAMPAIGN = '7d3e2a10-5b4c-4f6e-8a9b-0c1d2e3f4a5b';

const item = (overrides: Record<string, unknown> = {}) => ({
  campaignId: CAMPAIGN,
  platform: 'APPLE',
  contact: { id: 'c-1', firstName: 'Ada' },
  voucher: { code: 'SUMMER-001', value: '10%' },
  ...overrides,
});

function expectError(input: unknown, code: LinkRequestErrorCode, message: string | RegExp, index = 3) {
  const result = validateLinkRequest(input, index, NOW);
  if (result.ok) throw new Error(`expected ${code}, got a valid request`);
  expect(result.error.code).toBe(code);
  expect(result.error.message).toMatch(message);
}

function expectValid(input: unknown) {
  const result = validateLinkRequest(input, 0, NOW);
  if (!result.ok)
    throw new Error(`expected a valid request, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

describe('validateLinkRequest', () => {
  it('accepts the contract example and returns the normalised request', () => {
    const input = item();
    const value = expectValid(input);
    expect(value).toEqual({
      campaignId: CAMPAIGN,
      platform: 'APPLE',
      contact: { id: 'c-1', firstName: 'Ada' },
      voucher: { code: 'SUMMER-001', value: '10%' },
    });
    expect(value.contact).toBe(input.contact);
    expect('expiresAt' in value).toBe(false);
  });

  it('rejects items that are not objects', () => {
    for (const bad of [null, undefined, 'x', 42, [item()]]) {
      expectError(bad, 'INVALID_REQUEST', 'requests[3] must be an object');
    }
  });

  describe('campaignId', () => {
    it('is required', () => {
      for (const campaignId of [undefined, null, '']) {
        expectError(item({ campaignId }), 'MISSING_CAMPAIGN_ID', 'requests[3].campaignId is required');
      }
    });

    it('must be a UUID', () => {
      for (const campaignId of ['abc', 42, `${CAMPAIGN}x`, CAMPAIGN.replace(/-/g, ''), { id: CAMPAIGN }]) {
        expectError(item({ campaignId }), 'INVALID_CAMPAIGN_ID', 'requests[3].campaignId must be a UUID');
      }
    });

    it('is normalised to lower case', () => {
      expect(expectValid(item({ campaignId: CAMPAIGN.toUpperCase() })).campaignId).toBe(CAMPAIGN);
    });
  });

  describe('platform', () => {
    it('is required', () => {
      for (const platform of [undefined, null, '']) {
        expectError(item({ platform }), 'MISSING_PLATFORM', 'requests[3].platform is required');
      }
    });

    it('must be APPLE or GOOGLE', () => {
      expectError(
        item({ platform: 'WINDOWS' }),
        'INVALID_PLATFORM',
        'requests[3].platform must be APPLE or GOOGLE, not "WINDOWS"',
      );
      for (const platform of [1, true, ['APPLE'], 'APPLE ', 'x'.repeat(1000)]) {
        expectError(
          item({ platform }),
          'INVALID_PLATFORM',
          /^requests\[3\]\.platform must be APPLE or GOOGLE/,
        );
      }
    });

    it('accepts any letter case', () => {
      expect(expectValid(item({ platform: 'apple' })).platform).toBe('APPLE');
      expect(expectValid(item({ platform: 'Google' })).platform).toBe('GOOGLE');
      expect(expectValid(item({ platform: 'GOOGLE' })).platform).toBe('GOOGLE');
    });
  });

  describe('contact', () => {
    it('is required and must be a plain object', () => {
      for (const contact of [undefined, null, 'c-1', 7, ['c-1'], new Date()]) {
        expectError(item({ contact }), 'INVALID_CONTACT', 'requests[3].contact must be an object');
      }
    });

    it('accepts strings, numbers, booleans and null', () => {
      const contact = { id: 'c-1', points: 12.5, vip: false, note: null, name: 'Zoë 👩🏽‍🚀' };
      expect(expectValid(item({ contact })).contact).toEqual(contact);
    });

    it('rejects nested values, arrays and non-finite numbers, naming the field', () => {
      expectError(
        item({ contact: { id: 'c-1', address: { city: 'Paris' } } }),
        'INVALID_CONTACT',
        'requests[3].contact.address must be a string, number, boolean or null',
      );
      expectError(
        item({ contact: { id: 'c-1', tags: ['a'] } }),
        'INVALID_CONTACT',
        'requests[3].contact.tags',
      );
      expectError(
        item({ contact: { id: 'c-1', n: Infinity } }),
        'INVALID_CONTACT',
        'requests[3].contact.n must be a finite number',
      );
    });

    it('allows at most 50 properties', () => {
      const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, i]));
      expectValid(item({ contact: fifty }));
      expectError(
        item({ contact: { ...fifty, extra: 1 } }),
        'INVALID_CONTACT',
        'requests[3].contact has 51 properties; at most 50 are allowed',
      );
    });

    it('allows string values of at most 500 characters', () => {
      expectValid(item({ contact: { id: 'c-1', bio: 'x'.repeat(500) } }));
      expectError(
        item({ contact: { id: 'c-1', bio: 'x'.repeat(501) } }),
        'INVALID_CONTACT',
        'requests[3].contact.bio is longer than 500 characters',
      );
    });

    it('rejects empty, overlong and __proto__ property names', () => {
      expectError(item({ contact: { id: 'c-1', '': 'x' } }), 'INVALID_CONTACT', /invalid property name/);
      expectError(
        item({ contact: { id: 'c-1', ['k'.repeat(101)]: 'x' } }),
        'INVALID_CONTACT',
        /invalid property name/,
      );
      const poisoned = JSON.parse('{"id":"c-1","__proto__":{"admin":true}}');
      expectError(
        item({ contact: poisoned }),
        'INVALID_CONTACT',
        /requests\[3\]\.contact has an invalid property name/,
      );
    });
  });

  describe('voucher', () => {
    it('is optional and may be null', () => {
      expect(expectValid(item({ voucher: undefined })).voucher).toEqual({});
      expect(expectValid(item({ voucher: null })).voucher).toEqual({});
    });

    it('follows the same rules as contact', () => {
      expectError(
        item({ voucher: 'SUMMER-001' }),
        'INVALID_VOUCHER',
        'requests[3].voucher must be an object',
      );
      expectError(
        item({ voucher: { code: 'x'.repeat(501) } }),
        'INVALID_VOUCHER',
        'requests[3].voucher.code is longer than 500 characters',
      );
      expectError(item({ voucher: { code: 'A', meta: {} } }), 'INVALID_VOUCHER', 'requests[3].voucher.meta');
    });
  });

  describe('size', () => {
    it('accepts up to 8 KiB of contact and voucher JSON', () => {
      const contact = { id: 'c-1', a: 'x'.repeat(500), b: 'x'.repeat(500), c: 'x'.repeat(500) };
      const voucher = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`v${i}`, 'y'.repeat(500)]));
      expectValid(item({ contact, voucher }));
    });

    it('rejects more, counting UTF-8 bytes', () => {
      const contact = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}`, '€'.repeat(500)]));
      expectError(
        item({ contact: { id: 'c-1', ...contact } }),
        'PERSONALISATION_TOO_LARGE',
        /^requests\[3\]\.contact and requests\[3\]\.voucher take 9\d{3} bytes as JSON; at most 8192 fit in a link$/,
      );
      const fiftyLong = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, 'x'.repeat(500)]));
      expectError(item({ voucher: fiftyLong }), 'PERSONALISATION_TOO_LARGE', /at most 8192/);
      const escaped = Object.fromEntries(
        Array.from({ length: 3 }, (_, i) => [`e${i}`, '\u0001'.repeat(500)]),
      );
      expectError(
        item({ contact: { id: 'c-1', ...escaped } }),
        'PERSONALISATION_TOO_LARGE',
        /take 9\d{3} bytes/,
      );
    });
  });

  describe('identity', () => {
    it('needs voucher.code or contact.id', () => {
      const message = 'requests[3] needs voucher.code or contact.id to identify the pass';
      expectError(
        item({ contact: { firstName: 'Ada' }, voucher: { value: '10%' } }),
        'MISSING_IDENTITY',
        message,
      );
      expectError(item({ contact: { id: '' }, voucher: { code: '  ' } }), 'MISSING_IDENTITY', message);
      expectError(item({ contact: { id: null }, voucher: undefined }), 'MISSING_IDENTITY', message);
      expectError(item({ contact: { id: true }, voucher: { code: false } }), 'MISSING_IDENTITY', message);
    });

    it('accepts either one, as a string or a number', () => {
      expectValid(item({ contact: {}, voucher: { code: 'SUMMER-001' } }));
      expectValid(item({ contact: {}, voucher: { code: 1001 } }));
      expectValid(item({ contact: { id: 'c-1' }, voucher: undefined }));
      expectValid(item({ contact: { id: 7 }, voucher: {} }));
    });
  });

  describe('expiresAt', () => {
    it('accepts a future ISO date-time with an offset', () => {
      expect(expectValid(item({ expiresAt: '2030-01-31T23:59:59Z' })).expiresAt).toEqual(
        new Date('2030-01-31T23:59:59Z'),
      );
      expect(expectValid(item({ expiresAt: '2025-06-01T14:00:01.5+02:00' })).expiresAt).toEqual(
        new Date('2025-06-01T12:00:01.500Z'),
      );
      expect(expectValid(item({ expiresAt: '2028-02-29T10:00Z' })).expiresAt).toEqual(
        new Date('2028-02-29T10:00Z'),
      );
      expect('expiresAt' in expectValid(item({ expiresAt: null }))).toBe(false);
    });

    it('rejects malformed and impossible dates', () => {
      for (const expiresAt of [
        'tomorrow',
        '2030-01-31',
        '2030-01-31T23:59:59',
        '2030-02-30T00:00:00Z',
        '2029-02-29T00:00:00Z',
        '2030-13-01T00:00:00Z',
        '2030-01-01T24:00:00Z',
        '2030-01-01T00:00:00+25:00',
        1893456000000,
        { date: '2030-01-01T00:00:00Z' },
      ]) {
        expectError(
          item({ expiresAt }),
          'INVALID_EXPIRES_AT',
          /^requests\[3\]\.expiresAt must be an ISO 8601 date-time/,
        );
      }
    });

    it('must be in the future', () => {
      for (const expiresAt of ['2025-06-01T12:00:00Z', '2024-01-01T00:00:00Z']) {
        expectError(item({ expiresAt }), 'INVALID_EXPIRES_AT', 'requests[3].expiresAt must be in the future');
      }
    });
  });

  it('reports the first problem in field order and uses the given index', () => {
    expectError({ platform: 'X', contact: 'no' }, 'MISSING_CAMPAIGN_ID', 'requests[999].campaignId', 999);
  });

  it('ignores unknown top-level properties', () => {
    expect(expectValid(item({ extra: 'ignored' }))).not.toHaveProperty('extra');
  });
});
