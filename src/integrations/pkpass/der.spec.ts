import {
  contextTag,
  decodeOid,
  DerError,
  integer,
  octetString,
  oid,
  readChildren,
  readElement,
  sequence,
  setOf,
  time,
  tlv,
} from './der';

const hex = (b: Buffer) => b.toString('hex');

describe('DER encoding', () => {
  it('uses short and long length forms', () => {
    expect(hex(tlv(0x04, Buffer.alloc(127))).slice(0, 4)).toBe('047f');
    expect(hex(tlv(0x04, Buffer.alloc(128))).slice(0, 6)).toBe('048180');
    expect(hex(tlv(0x04, Buffer.alloc(256))).slice(0, 8)).toBe('04820100');
    expect(hex(tlv(0x04, Buffer.alloc(65536))).slice(0, 10)).toBe('0483010000');
  });

  it('encodes INTEGERs minimally with a sign pad', () => {
    expect(hex(integer(0))).toBe('020100');
    expect(hex(integer(1))).toBe('020101');
    expect(hex(integer(127))).toBe('02017f');
    expect(hex(integer(128))).toBe('02020080');
    expect(hex(integer(256))).toBe('02020100');
    expect(hex(integer(Buffer.from('0000ff01', 'hex')))).toBe('020300ff01');
    expect(() => integer(-1)).toThrow(DerError);
  });

  it('encodes OIDs', () => {
    expect(hex(oid('1.2.840.113549.1.7.2'))).toBe('06092a864886f70d010702');
    expect(hex(oid('2.16.840.1.101.3.4.2.1'))).toBe('0609608648016503040201');
    expect(hex(oid('0.9.2342.19200300.100.1.1'))).toBe('060a0992268993f22c640101');
    expect(() => oid('1.x')).toThrow(DerError);
    expect(() => oid('1.40')).toThrow(DerError);
  });

  it('encodes times as UTCTime until 2049 and GeneralizedTime after', () => {
    expect(time(new Date('2025-03-04T05:06:07.890Z')).toString('latin1')).toBe('\x17\x0d250304050607Z');
    expect(time(new Date('1999-12-31T23:59:59Z')).toString('latin1')).toBe('\x17\x0d991231235959Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
    expect(() => time(new Date('nope'))).toThrow(DerError);
  });

  it('sorts SET OF members by their encodings', () => {
    const a = octetString(Buffer.from('b'));
    const b = octetString(Buffer.from('a'));
    const c = integer(5);
    expect(hex(setOf(a, b, c))).toBe(`3109${hex(c)}${hex(b)}${hex(a)}`);
  });

  it('wraps context tags', () => {
    expect(hex(contextTag(0, integer(1)))).toBe('a003020101');
    expect(hex(contextTag(3, [integer(1), integer(2)]))).toBe('a306020101020102');
  });
});

describe('DER reading', () => {
  it('reads back what it writes', () => {
    const der = sequence(integer(300), oid('1.2.840.113549.1.9.5'), octetString(Buffer.alloc(200, 7)));
    const root = readElement(der, 0);
    expect(root).toEqual({ tag: 0x30, start: 0, contentStart: 3, end: der.length });
    const [n, o, s] = readChildren(der, root);
    expect(n?.tag).toBe(0x02);
    expect(o && decodeOid(der.subarray(o.contentStart, o.end))).toBe('1.2.840.113549.1.9.5');
    expect(s && s.end - s.contentStart).toBe(200);
  });

  it('decodes OIDs in the 2.x arc', () => {
    expect(decodeOid(oid('2.999.3').subarray(2))).toBe('2.999.3');
  });

  it('rejects indefinite lengths and elements that overrun their container', () => {
    expect(() => readElement(Buffer.from('3080020101', 'hex'), 0)).toThrow(/indefinite/);
    expect(() => readElement(Buffer.from('300502', 'hex'), 0)).toThrow(/past its container/);
    expect(() => readElement(Buffer.from('30', 'hex'), 0)).toThrow(/truncated/);
  });
});
