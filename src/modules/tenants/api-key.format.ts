import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `wsk_<lookupId>_<secret>`: the lookup id finds the row, the secret is
 * compared as a SHA-256 hash in constant time. 256 bits of secret make a slow hash unnecessary.
 */
export interface GeneratedApiKey {
  plaintext: string;
  lookupId: string;
  secretHash: Buffer;
}

const KEY_RE = /^wsk_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(): GeneratedApiKey {
  const lookupId = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);
  const secret = randomBytes(32).toString('base64url');
  return { plaintext: `wsk_${lookupId}_${secret}`, lookupId, secretHash: hashSecret(secret) };
}

export function parseApiKey(plaintext: string): { lookupId: string; secret: string } | null {
  const m = KEY_RE.exec(plaintext);
  return m ? { lookupId: m[1]!, secret: m[2]! } : null;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const candidate = hashSecret(secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}

/** Constant-time comparison of two strings of possibly different length. */
export function constantTimeEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
