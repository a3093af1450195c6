import {
  applePassToken,
  deviceLogContext,
  isDeviceLibraryIdentifier,
  logMessagesOf,
  notModifiedSince,
  parseTag,
  pushTokenOf,
} from './apple-protocol';

describe('Apple web service protocol parsing', () => {
  it('reads the ApplePass token and nothing else', () => {
    expect(applePassToken('ApplePass abcDEF_123-xyz')).toBe('abcDEF_123-xyz');
    expect(applePassToken('applepass  tok ')).toBe('tok');
    expect(applePassToken(undefined)).toBeNull();
    expect(applePassToken('Bearer tok')).toBeNull();
    expect(applePassToken('ApplePass')).toBeNull();
    expect(applePassToken('ApplePass a b')).toBeNull();
    expect(applePassToken('ApplePasstok')).toBeNull();
  });

  it('accepts device library identifiers of up to 128 safe characters', () => {
    expect(isDeviceLibraryIdentifier('a3f9c2d1e0b4a5968778695a4b3c2d1e')).toBe(true);
    expect(isDeviceLibraryIdentifier('A.b_c-9')).toBe(true);
    expect(isDeviceLibraryIdentifier('x'.repeat(128))).toBe(true);
    expect(isDeviceLibraryIdentifier('x'.repeat(129))).toBe(false);
    expect(isDeviceLibraryIdentifier('')).toBe(false);
    expect(isDeviceLibraryIdentifier('a/b')).toBe(false);
    expect(isDeviceLibraryIdentifier('a b')).toBe(false);
  });

  it('accepts hexadecimal push tokens and lower-cases them', () => {
    expect(pushTokenOf({ pushToken: 'ABCDEF0123456789' })).toBe('abcdef0123456789');
    expect(pushTokenOf({ pushToken: 'abc' })).toBeNull();
    expect(pushTokenOf({ pushToken: 'g'.repeat(64) })).toBeNull();
    expect(pushTokenOf({ pushToken: 'a'.repeat(513) })).toBeNull();
    expect(pushTokenOf({ pushToken: 7 })).toBeNull();
    expect(pushTokenOf(null)).toBeNull();
    expect(pushTokenOf('abcdef0123456789')).toBeNull();
  });

  it('parses only tags it could have issued', () => {
    expect(parseTag('0')).toBe(0n);
    expect(parseTag('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseTag('9223372036854775808')).toBeNull();
    expect(parseTag('12a')).toBeNull();
    expect(parseTag('-1')).toBeNull();
    expect(parseTag('')).toBeNull();
    expect(parseTag(undefined)).toBeNull();
    expect(parseTag(['1', '2'])).toBeNull();
  });

  it('compares If-Modified-Since at whole seconds', () => {
    const at = new Date('2025-06-01T10:00:00.900Z');
    expect(notModifiedSince(at, 'Sun, 01 Jun 2025 10:00:00 GMT')).toBe(true);
    expect(notModifiedSince(at, 'Sun, 01 Jun 2025 09:59:59 GMT')).toBe(false);
    expect(notModifiedSince(at, 'Sun, 01 Jun 2025 10:00:01 GMT')).toBe(true);
    expect(notModifiedSince(at, 'not a date')).toBe(false);
    expect(notModifiedSince(at, undefined)).toBe(false);
  });

  it('refuses too many or too long log messages (413) and other shapes (400), naming the field', () => {
    expect(logMessagesOf({ logs: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(logMessagesOf({ logs: Array.from({ length: 100 }, () => 'y'.repeat(2000)) })).toHaveLength(100);
    expect(logMessagesOf({ logs: Array.from({ length: 101 }, () => 'y') })).toMatchObject({
      tooLarge: true,
      field: 'logs',
    });
    expect(logMessagesOf({ logs: ['ok', 'y'.repeat(2001)] })).toMatchObject({
      tooLarge: true,
      field: 'logs[1]',
    });
    expect(logMessagesOf({ logs: [] })).toEqual([]);
    expect(logMessagesOf({ logs: ['a', 2] })).toMatchObject({ tooLarge: false, field: 'logs[1]' });
    expect(logMessagesOf({ logs: 'a' })).toMatchObject({ tooLarge: false, field: 'logs' });
    expect(logMessagesOf([])).toMatchObject({ tooLarge: false, field: 'logs' });
    expect(logMessagesOf(undefined)).toMatchObject({ tooLarge: false, field: 'logs' });
  });

  it('finds pass type, serial and device in the messages Wallet sends', () => {
    expect(
      deviceLogContext(
        'Register task (for device 0a1b2c, pass type pass.com.acme.voucher, serial number SER-1; with web service url https://x.test/wallet) encountered error: Authentication failure',
      ),
    ).toEqual({ passTypeIdentifier: 'pass.com.acme.voucher', serialNumber: 'SER-1' });
    expect(
      deviceLogContext(
        'Web service error for pass.com.acme.voucher (https://x.test/v1/devices/dev-42/registrations/pass.com.acme.voucher/SER%2D2): Response has no last-modified header',
      ),
    ).toEqual({
      deviceLibraryIdentifier: 'dev-42',
      passTypeIdentifier: 'pass.com.acme.voucher',
      serialNumber: 'SER-2',
    });
    expect(deviceLogContext("Update requested for unregistered serial number 'ABC123'")).toEqual({
      serialNumber: 'ABC123',
    });
    expect(deviceLogContext('GET https://x.test/v1/passes/pass.com.acme.voucher/XYZ returned 500')).toEqual({
      passTypeIdentifier: 'pass.com.acme.voucher',
      serialNumber: 'XYZ',
    });
    expect(deviceLogContext('Something unrelated happened')).toEqual({});
  });
});
