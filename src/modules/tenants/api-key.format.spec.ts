import { constantTimeEquals, generateApiKey, parseApiKey, secretMatches } from './api-key.format';

describe('API key format', () => {
  it('generates parseable keys whose secret matches only its own hash', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    const pa = parseApiKey(a.plaintext);
    expect(pa?.lookupId).toBe(a.lookupId);
    expect(secretMatches(pa!.secret, a.secretHash)).toBe(true);
    expect(secretMatches(pa!.secret, b.secretHash)).toBe(false);
    expect(a.plaintext).not.toBe(b.plaintext);
  });

  it('rejects strings that are not keys', () => {
    expect(parseApiKey('')).toBeNull();
    expect(parseApiKey('wsk_short_x')).toBeNull();
    expect(parseApiKey(generateApiKey().plaintext + 'x')).toBeNull();
  });

  it('compares strings in constant time and exactly', () => {
    expect(constantTimeEquals('abc', 'abc')).toBe(true);
    expect(constantTimeEquals('abc', 'abd')).toBe(false);
    expect(constantTimeEquals('abc', 'abcd')).toBe(false);
  });
});
