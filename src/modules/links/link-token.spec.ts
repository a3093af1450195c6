import { createHmac } from 'node:crypto';
import { HmacSha256, LinkClaims, LinkTokenCodec, LinkTokenError, LinkTokenErrorCode } from './link-token';

const oldKey = { kid: 'k2024', secret: Buffer.from('old-secret-old-secret-old-secret-0001', 'utf8') };
const newKey = { kid: 'k2025', secret: Buffer.from('new-secret-new-secret-new-secret-0002', 'utf8') };

const claims = (overrides: Partial<LinkClaims> = {}): LinkClaims => ({
  tenantId: '0b6f1c8e-2a7b-4e0e-9c1a-2f6c1d1b9a11',
  campaignId: '7d3e2a10-5b4c-4f6e-8a9b-0c1d2e3f4a5b',
  platform: 'APPLE',
  contact: {
    id: 'c4a7e9d2-1f3b-4c5d-9e8f-a1b2c3d4e5f6',
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada.lovelace@example.com',
  },
  voucher: { code: 'SUMMER-2025-000123', value: '10%', title: '10% off your next order' },
  ...overrides,
});

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const decodePart = (token: string, index: number) =>
  JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8'));

function hs256(header: unknown, payload: unknown, secret: Buffer): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function expectCode(fn: () => unknown, code: LinkTokenErrorCode) {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(LinkTokenError);
  expect((caught as LinkTokenError).code).toBe(code);
}

describe('LinkTokenCodec', () => {
  const codec = new LinkTokenCodec([newKey, oldKey]);

  it('round-trips the claims', () => {
    const now = new Date('2025-06-01T10:00:00.750Z');
    const token = codec.sign(claims(), now);
    expect(codec.verify(token, now)).toEqual({ ...claims(), issuedAt: new Date('2025-06-01T10:00:00Z') });
  });

  it('round-trips Google links, an empty voucher, unicode and non-string values', () => {
    const input = claims({
      platform: 'GOOGLE',
      contact: { id: 42, name: 'Zoë 👩🏽‍🚀 שלום', vip: true, note: null },
      voucher: {},
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
    const verified = codec.verify(codec.sign(input));
    expect(verified).toEqual({ ...input, issuedAt: expect.any(Date) });
  });

  it('writes a standard HS256 JWT with the kid header', () => {
    const token = codec.sign(claims());
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(decodePart(token, 0)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k2025' });
    const [h, p] = token.split('.');
    const expected = createHmac('sha256', newKey.secret).update(`${h}.${p}`).digest('base64url');
    expect(token.split('.')[2]).toBe(expected);
  });

  it('uses compact claim names', () => {
    const now = new Date('2025-06-01T10:00:00Z');
    const expiresAt = new Date('2025-07-01T00:00:00Z');
    const payload = decodePart(codec.sign(claims({ expiresAt }), now), 1);
    expect(Object.keys(payload)).toEqual(['t', 'c', 'p', 'ct', 'v', 'iat', 'exp']);
    expect(payload).toMatchObject({ p: 'A', iat: 1748772000, exp: 1751328000 });
    expect(Object.keys(decodePart(codec.sign(claims({ voucher: {}, platform: 'GOOGLE' })), 1))).toEqual([
      't',
      'c',
      'p',
      'ct',
      'iat',
    ]);
    expect(decodePart(codec.sign(claims({ platform: 'GOOGLE' })), 1).p).toBe('G');
  });

  it('keeps a typical link under 600 characters', () => {
    const url = `https://wallet.example.com/api/pass/create/${codec.sign(claims())}`;
    expect(url.length).toBeLessThan(600);
  });

  it('rejects a tampered payload', () => {
    const [h, , s] = codec.sign(claims()).split('.');
    const forged = b64json({ ...decodePart(codec.sign(claims()), 1), t: 'another-tenant' });
    expectCode(() => codec.verify(`${h}.${forged}.${s}`), 'LINK_SIGNATURE_INVALID');
  });

  it('rejects a tampered signature', () => {
    const token = codec.sign(claims());
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expectCode(() => codec.verify(token.slice(0, -1) + last), 'LINK_SIGNATURE_INVALID');
    expectCode(() => codec.verify(token.slice(0, -1)), 'LINK_SIGNATURE_INVALID');
    expectCode(() => codec.verify(`${token}AAAA`), 'LINK_SIGNATURE_INVALID');
  });

  it('rejects a token signed with another secret under a known kid', () => {
    const forged = hs256(
      { alg: 'HS256', typ: 'JWT', kid: 'k2025' },
      decodePart(codec.sign(claims()), 1),
      Buffer.from('attacker-secret-attacker-secret-000', 'utf8'),
    );
    expectCode(() => codec.verify(forged), 'LINK_SIGNATURE_INVALID');
  });

  it('answers LINK_KEY_UNKNOWN for an unknown kid', () => {
    const other = new LinkTokenCodec([{ kid: 'elsewhere', secret: newKey.secret }]);
    expectCode(() => codec.verify(other.sign(claims())), 'LINK_KEY_UNKNOWN');
  });

  it('supports key rotation', () => {
    const before = new LinkTokenCodec([oldKey]);
    const during = new LinkTokenCodec([newKey, oldKey]);
    const after = new LinkTokenCodec([newKey]);
    const oldToken = before.sign(claims());
    const newToken = during.sign(claims());
    expect(decodePart(newToken, 0).kid).toBe('k2025');
    expect(during.signingKid).toBe('k2025');
    expect(during.verify(oldToken).tenantId).toBe(claims().tenantId);
    expect(during.verify(newToken).tenantId).toBe(claims().tenantId);
    expect(after.verify(newToken).campaignId).toBe(claims().campaignId);
    expectCode(() => after.verify(oldToken), 'LINK_KEY_UNKNOWN');
  });

  it('rejects expired links and accepts them until the expiry second', () => {
    const expiresAt = new Date('2025-07-01T00:00:00Z');
    const token = codec.sign(claims({ expiresAt }), new Date('2025-06-01T00:00:00Z'));
    expect(codec.verify(token, new Date('2025-06-30T23:59:59.999Z')).expiresAt).toEqual(expiresAt);
    expectCode(() => codec.verify(token, expiresAt), 'LINK_EXPIRED');
    expectCode(() => codec.verify(token, new Date('2026-01-01T00:00:00Z')), 'LINK_EXPIRED');
  });

  it('checks the signature before the expiry', () => {
    const token = codec.sign(claims({ expiresAt: new Date('2020-01-01T00:00:00Z') }));
    expectCode(() => codec.verify(`${token.slice(0, -2)}AA`), 'LINK_SIGNATURE_INVALID');
  });

  it('rejects alg none and other algorithms', () => {
    const payload = decodePart(codec.sign(claims()), 1);
    const unsigned = `${b64json({ alg: 'none', typ: 'JWT', kid: 'k2025' })}.${b64json(payload)}.`;
    expectCode(() => codec.verify(unsigned), 'LINK_MALFORMED');
    const noneWithSig = hs256({ alg: 'none', typ: 'JWT', kid: 'k2025' }, payload, newKey.secret);
    expectCode(() => codec.verify(noneWithSig), 'LINK_SIGNATURE_INVALID');
    for (const alg of ['HS512', 'RS256', 'hs256', undefined]) {
      const token = hs256({ alg, typ: 'JWT', kid: 'k2025' }, payload, newKey.secret);
      expectCode(() => codec.verify(token), 'LINK_SIGNATURE_INVALID');
    }
  });

  it('rejects malformed tokens', () => {
    const token = codec.sign(claims());
    const [h, p, s] = token.split('.');
    const cases = [
      '',
      'abc',
      'a.b',
      `${token}.x`,
      `${h}.${p}.${s}=`,
      `${h}..${s}`,
      `!!.${p}.${s}`,
      `${b64json('str')}.${p}.${s}`,
      `${Buffer.from('{not json').toString('base64url')}.${p}.${s}`,
      `${b64json({ alg: 'HS256', typ: 'JWT' })}.${p}.${s}`,
      `${b64json({ alg: 'HS256', typ: 'JOSE+JSON', kid: 'k2025' })}.${p}.${s}`,
      'x'.repeat(20_000),
    ];
    for (const bad of cases) expectCode(() => codec.verify(bad), 'LINK_MALFORMED');
    expectCode(() => codec.verify(42 as unknown as string), 'LINK_MALFORMED');
  });

  it('rejects correctly signed payloads with invalid claims', () => {
    const header = { alg: 'HS256', typ: 'JWT', kid: 'k2025' };
    const good = decodePart(codec.sign(claims()), 1);
    const payloads = [
      [1, 2],
      { ...good, t: 5 },
      { ...good, p: 'X' },
      { ...good, ct: 'x' },
      { ...good, ct: { nested: { a: 1 } } },
      { ...good, v: [1] },
      { ...good, iat: '1' },
      { ...good, exp: -1 },
    ];
    for (const payload of payloads) {
      expectCode(() => codec.verify(hs256(header, payload, newKey.secret)), 'LINK_MALFORMED');
    }
  });

  it('refuses weak, duplicate or missing keys', () => {
    expect(() => new LinkTokenCodec([])).toThrow(/at least one/);
    expect(() => new LinkTokenCodec([{ kid: 'k', secret: Buffer.from('short') }])).toThrow(/32 bytes/);
    expect(() => new LinkTokenCodec([newKey, newKey])).toThrow(/Duplicate/);
  });
});

describe('HmacSha256', () => {
  const messages = ['', 'a', 'eyJhbGciOiJIUzI1NiJ9.e30', 'x.'.repeat(700), 'y'.repeat(5000), 'z'.repeat(100)];

  it.each([32, 63, 64, 65, 200])('matches createHmac for a %i-byte key, before and after growing', (size) => {
    const secret = Buffer.from(Array.from({ length: size }, (_, i) => (i * 37 + 11) % 256));
    const mac = new HmacSha256(secret);
    const fallback = new HmacSha256(secret, undefined);
    for (const message of messages) {
      const expected = createHmac('sha256', secret).update(message).digest('base64url');
      expect(mac.digest(message)).toBe(expected);
      expect(fallback.digest(message)).toBe(expected);
    }
  });

  it('does not keep state between messages', () => {
    const mac = new HmacSha256(newKey.secret);
    const first = mac.digest('short');
    mac.digest('a much longer message that overwrites the scratch buffer');
    expect(mac.digest('short')).toBe(first);
  });
});

describe('LinkTokenCodec with large data', () => {
  it('round-trips contacts that outgrow the reused buffers', () => {
    const codec = new LinkTokenCodec([newKey]);
    const contact = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`field${i}`, '€'.repeat(500)]));
    const token = codec.sign(claims({ contact }));
    expect(token.length).toBeGreaterThan(10_000);
    expect(codec.verify(token).contact).toEqual(contact);
    const small = codec.sign(claims());
    expect(codec.verify(small).contact).toEqual(claims().contact);
    expect(small).toBe(new LinkTokenCodec([newKey]).sign(claims()));
  });
});
