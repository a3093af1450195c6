import { isIP } from 'node:net';

/**
 * Which resolved addresses a webhook may connect to. Anything that reaches the service's own
 * network (loopback, private, link-local, unique-local, carrier-grade NAT, multicast, unspecified,
 * reserved) is refused, in IPv4 and IPv6, including IPv4 addresses wrapped in IPv6
 * (`::ffff:10.0.0.1`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, the old `::a.b.c.d`).
 */

/** IPv4 ranges refused, as [first octets, prefix length, reason]. */
const V4_BLOCKED: [number, number, string][] = [
  [ip4(0, 0, 0, 0), 8, 'unspecified'],
  [ip4(10, 0, 0, 0), 8, 'private'],
  [ip4(100, 64, 0, 0), 10, 'shared (carrier-grade NAT)'],
  [ip4(127, 0, 0, 0), 8, 'loopback'],
  [ip4(169, 254, 0, 0), 16, 'link-local'],
  [ip4(172, 16, 0, 0), 12, 'private'],
  [ip4(192, 0, 0, 0), 24, 'reserved (IETF protocol assignments)'],
  [ip4(192, 0, 2, 0), 24, 'documentation'],
  [ip4(192, 88, 99, 0), 24, 'reserved (6to4 relay)'],
  [ip4(192, 168, 0, 0), 16, 'private'],
  [ip4(198, 18, 0, 0), 15, 'reserved (benchmarking)'],
  [ip4(198, 51, 100, 0), 24, 'documentation'],
  [ip4(203, 0, 113, 0), 24, 'documentation'],
  [ip4(224, 0, 0, 0), 4, 'multicast'],
  [ip4(240, 0, 0, 0), 4, 'reserved'],
];

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function parseV4(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

function v4Reason(n: number): string | null {
  for (const [base, bits, reason] of V4_BLOCKED) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return reason;
  }
  return null;
}

/** An IPv6 address as 16 bytes, or null when it is not one. Zone ids (`%eth0`) are ignored. */
export function parseV6(address: string): Uint8Array | null {
  let a = address;
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  if (isIP(a) !== 6) return null;
  let tailV4: number | null = null;
  const lastColon = a.lastIndexOf(':');
  if (a.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(a.slice(lastColon + 1));
    if (tailV4 === null) return null;
    a = a.slice(0, lastColon + 1) + '0:0';
  }
  const halves = a.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  const groups = [...head, ...Array<string>(halves.length > 1 ? missing : 0).fill('0'), ...tail];
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  if (tailV4 !== null) {
    bytes[12] = tailV4 >>> 24;
    bytes[13] = (tailV4 >>> 16) & 0xff;
    bytes[14] = (tailV4 >>> 8) & 0xff;
    bytes[15] = tailV4 & 0xff;
  }
  return bytes;
}

function embeddedV4(b: Uint8Array, offset: number): number {
  return ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
}

function startsWith(b: Uint8Array, prefix: number[]): boolean {
  return prefix.every((v, i) => b[i] === v);
}

function v6Reason(b: Uint8Array): string | null {
  const allZeroUpTo = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (allZeroUpTo(16)) return 'unspecified';
  if (allZeroUpTo(15) && b[15] === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d and the deprecated IPv4-compatible ::a.b.c.d
  if (allZeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return v4Reason(embeddedV4(b, 12));
  if (allZeroUpTo(12)) return v4Reason(embeddedV4(b, 12)) ?? 'reserved (IPv4-compatible)';
  // NAT64 64:ff9b::/96 reaches the embedded IPv4 address; 64:ff9b:1::/48 is for local use.
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b]) && b.subarray(4, 12).every((x) => x === 0)) {
    return v4Reason(embeddedV4(b, 12));
  }
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01])) return 'private (local NAT64)';
  // 6to4 2002:a.b.c.d::/48
  if (b[0] === 0x20 && b[1] === 0x02) return v4Reason(embeddedV4(b, 2));
  if (b[0] === 0xff) return 'multicast';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'site-local';
  if ((b[0]! & 0xfe) === 0xfc) return 'unique-local';
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8])) return 'documentation';
  if (startsWith(b, [0x01, 0x00]) && b.subarray(2, 8).every((x) => x === 0)) return 'discard-only';
  return null;
}

/**
 * Why a webhook must not connect to this address, or null when it may. Anything that is not an
 * IP address is refused too (the caller passes resolved addresses only).
 */
export function forbiddenAddressReason(address: string): string | null {
  const v4 = parseV4(address);
  if (v4 !== null) return v4Reason(v4);
  const v6 = parseV6(address);
  if (v6) return v6Reason(v6);
  return 'not an IP address';
}
