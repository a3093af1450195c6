/**
 * Just enough ASN.1 DER to write a CMS SignedData and to pick fields out of an X.509 certificate.
 * Only low tag numbers (< 31) and definite lengths are supported, which is all either job needs.
 */

export const DerTag = {
  Integer: 0x02,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  T61String: 0x14,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  BmpString: 0x1e,
  Sequence: 0x30,
  Set: 0x31,
} as const;

export class DerError extends Error {
  override readonly name = 'DerError';
}

// ---------------------------------------------------------------------------------------------
// Encoding

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: tag, length, and the concatenated content parts. */
export function tlv(tag: number, content: Buffer | readonly Buffer[]): Buffer {
  const parts = Buffer.isBuffer(content) ? [content] : content;
  let contentLength = 0;
  for (const part of parts) contentLength += part.length;
  const length = lengthOctets(contentLength);
  const out = Buffer.allocUnsafe(1 + length.length + contentLength);
  out[0] = tag;
  length.copy(out, 1);
  let offset = 1 + length.length;
  for (const part of parts) offset += part.copy(out, offset);
  return out;
}

export function sequence(...items: Buffer[]): Buffer {
  return tlv(DerTag.Sequence, items);
}

/** Elements sorted by their encodings, as DER requires for SET OF. */
export function sortedForSet(items: readonly Buffer[]): Buffer[] {
  return [...items].sort(Buffer.compare);
}

/** SET OF: DER wants the members in ascending order of their encodings. */
export function setOf(...items: Buffer[]): Buffer {
  return tlv(DerTag.Set, sortedForSet(items));
}

/** Constructed context-specific tag `[n]` around content (EXPLICIT wrapper or IMPLICIT SET/SEQUENCE). */
export function contextTag(tagNumber: number, content: Buffer | readonly Buffer[]): Buffer {
  if (tagNumber < 0 || tagNumber > 30) throw new DerError(`context tag [${tagNumber}] is out of range`);
  return tlv(0xa0 | tagNumber, content);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new DerError(`invalid OID ${dotted}`);
    return BigInt(arc);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2n || (first < 2n && second > 39n)) {
    throw new DerError(`invalid OID ${dotted}`);
  }
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const group = [Number(arc & 0x7fn)];
    for (let value = arc >> 7n; value > 0n; value >>= 7n) group.unshift(Number(value & 0x7fn) | 0x80);
    bytes.push(...group);
  }
  return tlv(DerTag.Oid, Buffer.from(bytes));
}

/** INTEGER from a non-negative safe integer, or from an unsigned big-endian magnitude. */
export function integer(value: number | Buffer): Buffer {
  let magnitude: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new DerError(`cannot encode integer ${value}`);
    const hex = value.toString(16);
    magnitude = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
  } else {
    magnitude = value;
  }
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.length === 0 ? Buffer.of(0) : magnitude.subarray(start);
  const needsPad = (trimmed[0] ?? 0) & 0x80;
  return tlv(DerTag.Integer, needsPad ? [Buffer.of(0), trimmed] : trimmed);
}

export function octetString(content: Buffer): Buffer {
  return tlv(DerTag.OctetString, content);
}

export function derNull(): Buffer {
  return Buffer.of(DerTag.Null, 0);
}

function twoDigits(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** RFC 5280 §4.1.2.5 / RFC 5652 §11.3: UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds, UTC. */
export function time(date: Date): Buffer {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new DerError('cannot encode an invalid date');
  const year = date.getUTCFullYear();
  const rest =
    twoDigits(date.getUTCMonth() + 1) +
    twoDigits(date.getUTCDate()) +
    twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes()) +
    twoDigits(date.getUTCSeconds()) +
    'Z';
  if (year >= 1950 && year < 2050) {
    return tlv(DerTag.UtcTime, Buffer.from(twoDigits(year % 100) + rest, 'latin1'));
  }
  if (year < 0 || year > 9999) throw new DerError(`cannot encode year ${year}`);
  return tlv(DerTag.GeneralizedTime, Buffer.from(String(year).padStart(4, '0') + rest, 'latin1'));
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
}

export function readElement(buf: Buffer, offset: number, limit: number = buf.length): DerElement {
  if (offset + 2 > limit) throw new DerError(`truncated element at offset ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag numbers are not supported (offset ${offset})`);
  const first = buf[offset + 1] as number;
  let contentStart = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0) throw new DerError(`indefinite length at offset ${offset} is not DER`);
    if (count > 4) throw new DerError(`length too large at offset ${offset}`);
    if (contentStart + count > limit) throw new DerError(`truncated length at offset ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[contentStart + i] as number);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError(`element at offset ${offset} runs past its container`);
  return { tag, start: offset, contentStart, end };
}

/** The elements directly inside a constructed element. */
export function readChildren(buf: Buffer, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readElement(buf, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

export function elementBytes(buf: Buffer, el: DerElement): Buffer {
  return buf.subarray(el.start, el.end);
}

export function contentBytes(buf: Buffer, el: DerElement): Buffer {
  return buf.subarray(el.contentStart, el.end);
}

export function decodeOid(content: Buffer): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [head, ...rest] = arcs;
  if (head === undefined) throw new DerError('empty OID');
  const first = head < 80n ? head / 40n : 2n;
  return [first, head - first * 40n, ...rest].join('.');
}

/** Text of the string types that appear in certificate names. */
export function decodeString(tag: number, content: Buffer): string | undefined {
  switch (tag) {
    case DerTag.Utf8String:
    case DerTag.PrintableString:
    case DerTag.Ia5String:
      return content.toString('utf8');
    case DerTag.T61String:
      return content.toString('latin1');
    case DerTag.BmpString:
      return content.length % 2 === 0 ? Buffer.from(content).swap16().toString('utf16le') : undefined;
    default:
      return undefined;
  }
}
