import { decode, verify, type JwtPayload } from 'jsonwebtoken';
import { createServiceAccountKey } from '../../../test/support/certs';
import { signSaveLink } from './save-link';

const PREFIX = 'https://pay.google.com/gp/v/save';
const ISSUER = '3388000000012345678';

describe('signSaveLink', () => {
  const account = createServiceAccountKey('links@test-project.iam.gserviceaccount.com');

  function tokenOf(url: string): string {
    expect(url.startsWith(`${PREFIX}/`)).toBe(true);
    return url.slice(PREFIX.length + 1);
  }

  it('signs a skinny save JWT with the service-account key that names the object', () => {
    const before = Math.floor(Date.now() / 1000);
    const url = signSaveLink({
      serviceAccountKey: account.key,
      saveUrlPrefix: PREFIX,
      objectType: 'offer',
      objectId: `${ISSUER}.voucher_SUMMER-001`,
      classId: `${ISSUER}.campaign_summer`,
    });

    expect(url.length).toBeLessThan(1800);
    const token = tokenOf(url);
    const claims = verify(token, account.publicKeyPem, { algorithms: ['RS256'] }) as JwtPayload;
    expect(claims).toMatchObject({
      iss: account.key.client_email,
      aud: 'google',
      typ: 'savetowallet',
      origins: [],
      payload: {
        offerObjects: [{ id: `${ISSUER}.voucher_SUMMER-001`, classId: `${ISSUER}.campaign_summer` }],
      },
    });
    expect(Object.keys(claims.payload as object)).toEqual(['offerObjects']);
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));

    const header = decode(token, { complete: true })?.header;
    expect(header).toMatchObject({ alg: 'RS256', kid: account.key.private_key_id });
  });

  it('uses the type-specific payload key, the given origins, and no kid when the key has none', () => {
    const { private_key_id: _unused, ...keyWithoutId } = account.key;
    const url = signSaveLink({
      serviceAccountKey: keyWithoutId,
      saveUrlPrefix: `${PREFIX}/`,
      objectType: 'eventTicket',
      objectId: `${ISSUER}.ticket_1`,
      classId: `${ISSUER}.concert`,
      origins: ['https://www.example.com'],
    });
    const token = tokenOf(url);
    const claims = verify(token, account.publicKeyPem, { algorithms: ['RS256'] }) as JwtPayload;
    expect(claims.payload).toEqual({
      eventTicketObjects: [{ id: `${ISSUER}.ticket_1`, classId: `${ISSUER}.concert` }],
    });
    expect(claims.origins).toEqual(['https://www.example.com']);
    expect(decode(token, { complete: true })?.header.kid).toBeUndefined();
  });

  it('does not verify with another key', () => {
    const other = createServiceAccountKey();
    const url = signSaveLink({
      serviceAccountKey: account.key,
      saveUrlPrefix: PREFIX,
      objectType: 'generic',
      objectId: `${ISSUER}.member_1`,
      classId: `${ISSUER}.members`,
    });
    expect(() => verify(tokenOf(url), other.publicKeyPem, { algorithms: ['RS256'] })).toThrow(
      /invalid signature/,
    );
  });

  it('stays under 1800 characters with long ids', () => {
    const url = signSaveLink({
      serviceAccountKey: account.key,
      saveUrlPrefix: PREFIX,
      objectType: 'loyalty',
      objectId: `${ISSUER}.${'o'.repeat(120)}`,
      classId: `${ISSUER}.${'c'.repeat(120)}`,
      origins: ['https://www.example.com'],
    });
    expect(url.length).toBeLessThan(1800);
    expect(verify(tokenOf(url), account.publicKeyPem, { algorithms: ['RS256'] })).toMatchObject({
      payload: { loyaltyObjects: [{ id: `${ISSUER}.${'o'.repeat(120)}` }] },
    });
  });
});
