import {
  createHash,
  createHmac,
  createSecretKey,
  hash as oneShotHashFn,
  KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import { toStorableText } from '../../common/http/text-policy';
import { PersonalisationValue } from '../../domain/pass-design/campaign-template';

/**
 * The signed token in "Add to Wallet" links (`<PUBLIC_BASE_URL>/api/pass/create/<token>`).
 *
 * A compact HS256 JWT, signed by hand with node:crypto: a generic JWT library re-validates options
 * and copies buffers on every call, and this path signs up to 1,000 tokens per request. HMAC-SHA256
 * is computed from two one-shot `crypto.hash` calls over precomputed key pads (RFC 2104), which
 * skips the per-call `Hmac` object and key set-up that cost a third of the time; `createHmac` with
 * a prepared `KeyObject` is the fallback on Node versions without `crypto.hash` (before 20.12).
 *
 * - header: `{"alg":"HS256","typ":"JWT","kid":"<kid>"}`, precomputed per key.
 * - payload (short claim names keep a typical link far below 2,000 characters):
 *   `t` tenant id, `c` campaign id, `p` platform (`A` Apple, `G` Google), `ct` contact,
 *   `v` voucher (left out when empty), `iat` and optional `exp` in seconds since the epoch.
 *
 * Verification accepts only `alg: "HS256"` with a known `kid`, compares the signature in constant
 * time, and only then reads the payload.
 */

export type LinkPlatform = 'APPLE' | 'GOOGLE';

export interface LinkClaims {
  tenantId: string;
  campaignId: string;
  platform: LinkPlatform;
  contact: Record<string, PersonalisationValue>;
  voucher: Record<string, PersonalisationValue>;
  /** Links without it never expire. Stored with one-second precision (rounded down). */
  expiresAt?: Date;
}

export interface VerifiedLinkClaims extends LinkClaims {
  issuedAt: Date;
}

export interface LinkSigningKeyInput {
  kid: string;
  secret: Buffer;
}

export type LinkTokenErrorCode =
  'LINK_MALFORMED' | 'LINK_SIGNATURE_INVALID' | 'LINK_KEY_UNKNOWN' | 'LINK_EXPIRED';

export class LinkTokenError extends Error {
  constructor(
    readonly code: LinkTokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LinkTokenError';
  }
}

/** The payload as serialised, in this order. */
interface LinkPayload {
  t: string;
  c: string;
  p: 'A' | 'G';
  ct: Record<string, PersonalisationValue>;
  v?: Record<string, PersonalisationValue>;
  iat: number;
  exp?: number;
}

interface PreparedKey {
  kid: string;
  mac: HmacSha256;
  /** base64url of the header naming this key, followed by the dot. */
  signingPrefix: string;
}

const SHA256_BLOCK = 64;
const SHA256_SIZE = 32;
type OneShotHash = typeof oneShotHashFn;
/** `crypto.hash` exists from Node 20.12; the typings do not know older versions lack it. */
const oneShotHash: OneShotHash | undefined = typeof oneShotHashFn === 'function' ? oneShotHashFn : undefined;

/**
 * HMAC-SHA256 of ASCII text (the JWS signing input; other characters would be truncated to one
 * byte) for one key, as base64url. Exported for tests; `hash` is replaceable so that the fallback
 * path is tested too.
 */
export class HmacSha256 {
  private readonly key: KeyObject;
  /** The key XOR ipad block, followed by room for the message; grows as needed. */
  private inner: Buffer;
  /** The key XOR opad block, followed by the inner digest. */
  private readonly outer = Buffer.alloc(SHA256_BLOCK + SHA256_SIZE);

  constructor(
    secret: Buffer,
    private readonly hash: OneShotHash | undefined = oneShotHash,
  ) {
    this.key = createSecretKey(Buffer.from(secret));
    const block = Buffer.alloc(SHA256_BLOCK);
    (secret.length > SHA256_BLOCK ? createHash('sha256').update(secret).digest() : secret).copy(block);
    this.inner = Buffer.alloc(SHA256_BLOCK + 1024);
    for (let i = 0; i < SHA256_BLOCK; i++) {
      this.inner[i] = block[i]! ^ 0x36;
      this.outer[i] = block[i]! ^ 0x5c;
    }
    block.fill(0);
  }

  digest(ascii: string): string {
    const hash = this.hash;
    if (hash === undefined) return createHmac('sha256', this.key).update(ascii).digest('base64url');
    if (SHA256_BLOCK + ascii.length > this.inner.length) {
      const grown = Buffer.alloc(2 * (SHA256_BLOCK + ascii.length));
      this.inner.copy(grown, 0, 0, SHA256_BLOCK);
      this.inner.fill(0);
      this.inner = grown;
    }
    const length = this.inner.write(ascii, SHA256_BLOCK, 'latin1');
    hash('sha256', this.inner.subarray(0, SHA256_BLOCK + length), 'buffer').copy(this.outer, SHA256_BLOCK);
    return hash('sha256', this.outer, 'base64url');
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** An HMAC-SHA256 digest is 32 bytes: 43 base64url characters without padding. */
const SIGNATURE_LENGTH = 43;
/** Tokens larger than this are refused before any decoding or hashing. */
const MAX_TOKEN_LENGTH = 16_384;

function fail(code: LinkTokenErrorCode, message: string): never {
  throw new LinkTokenError(code, message);
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPersonalisationRecord(value: unknown): value is Record<string, PersonalisationValue> {
  if (!isPlainRecord(value)) return false;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return false;
  }
  return true;
}

/**
 * Links signed before the text policy may carry NUL or lone surrogates, which PostgreSQL cannot
 * store: such characters become U+FFFD (the same way on every tap, so the pass identity is stable).
 */
function storableRecord(record: Record<string, PersonalisationValue>): Record<string, PersonalisationValue> {
  let out: Record<string, PersonalisationValue> | undefined;
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = record[key]!;
    const storableKey = toStorableText(key);
    const storableValue = typeof value === 'string' ? toStorableText(value) : value;
    if (out === undefined && (storableKey !== key || storableValue !== value)) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]!] = record[keys[j]!]!;
    }
    if (out !== undefined) out[storableKey] = storableValue;
  }
  return out ?? record;
}

function decodeJson(part: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return fail('LINK_MALFORMED', `The link's ${what} is not valid JSON`);
  }
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export class LinkTokenCodec {
  private readonly signer: PreparedKey;
  private readonly byKid = new Map<string, PreparedKey>();
  /** Reused for UTF-8 → base64url so signing allocates no intermediate buffer. */
  private scratch = Buffer.alloc(4096);

  /** The first key signs new tokens; every key verifies (rotation: add the new key first). */
  constructor(keys: readonly LinkSigningKeyInput[]) {
    if (keys.length === 0) throw new Error('LinkTokenCodec needs at least one signing key');
    for (const { kid, secret } of keys) {
      if (kid === '') throw new Error('A link signing key needs a kid');
      if (secret.length < 32) throw new Error(`The link signing key "${kid}" must be at least 32 bytes`);
      if (this.byKid.has(kid)) throw new Error(`Duplicate link signing key "${kid}"`);
      const header = JSON.stringify({ alg: 'HS256', typ: 'JWT', kid });
      this.byKid.set(kid, {
        kid,
        mac: new HmacSha256(secret),
        signingPrefix: `${Buffer.from(header, 'utf8').toString('base64url')}.`,
      });
    }
    this.signer = this.byKid.get(keys[0]!.kid)!;
  }

  /** The kid new tokens are signed with. */
  get signingKid(): string {
    return this.signer.kid;
  }

  sign(claims: LinkClaims, now: Date = new Date()): string {
    // One object shape for every token; JSON.stringify leaves out the undefined members.
    const payload: LinkPayload = {
      t: claims.tenantId,
      c: claims.campaignId,
      p: claims.platform === 'APPLE' ? 'A' : 'G',
      ct: claims.contact,
      v: hasKeys(claims.voucher) ? claims.voucher : undefined,
      iat: Math.floor(now.getTime() / 1000),
      exp: claims.expiresAt === undefined ? undefined : Math.floor(claims.expiresAt.getTime() / 1000),
    };
    const signingInput = this.signer.signingPrefix + this.base64url(JSON.stringify(payload));
    return `${signingInput}.${this.signer.mac.digest(signingInput)}`;
  }

  verify(token: string, now: Date = new Date()): VerifiedLinkClaims {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
      fail('LINK_MALFORMED', 'The link is not a valid token');
    }
    const firstDot = token.indexOf('.');
    const secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
    if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) {
      fail('LINK_MALFORMED', 'The link is not a valid token');
    }
    const headerPart = token.slice(0, firstDot);
    const payloadPart = token.slice(firstDot + 1, secondDot);
    const signaturePart = token.slice(secondDot + 1);
    if (!BASE64URL.test(headerPart) || !BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) {
      fail('LINK_MALFORMED', 'The link is not a valid token');
    }

    const header = decodeJson(headerPart, 'header');
    if (!isPlainRecord(header)) fail('LINK_MALFORMED', "The link's header is not an object");
    if (header.alg !== 'HS256')
      fail('LINK_SIGNATURE_INVALID', 'The link is not signed with a supported algorithm');
    if (header.typ !== undefined && header.typ !== 'JWT')
      fail('LINK_MALFORMED', "The link's token type is not JWT");
    if (typeof header.kid !== 'string') fail('LINK_MALFORMED', 'The link does not name its signing key');
    const key = this.byKid.get(header.kid);
    if (key === undefined) fail('LINK_KEY_UNKNOWN', 'The link was signed with an unknown key');

    const expected = key.mac.digest(token.slice(0, secondDot));
    if (
      signaturePart.length !== SIGNATURE_LENGTH ||
      !timingSafeEqual(Buffer.from(signaturePart, 'latin1'), Buffer.from(expected, 'latin1'))
    ) {
      fail('LINK_SIGNATURE_INVALID', "The link's signature is invalid");
    }

    const payload = decodeJson(payloadPart, 'payload');
    if (!isPlainRecord(payload)) fail('LINK_MALFORMED', "The link's payload is not an object");
    const { t, c, p, ct, v, iat, exp } = payload;
    if (typeof t !== 'string' || typeof c !== 'string' || (p !== 'A' && p !== 'G')) {
      fail('LINK_MALFORMED', "The link's payload lacks tenant, campaign or platform");
    }
    if (!isPersonalisationRecord(ct) || (v !== undefined && !isPersonalisationRecord(v))) {
      fail('LINK_MALFORMED', "The link's contact or voucher data is invalid");
    }
    if (!isSeconds(iat) || (exp !== undefined && !isSeconds(exp))) {
      fail('LINK_MALFORMED', "The link's timestamps are invalid");
    }
    if (exp !== undefined && now.getTime() >= exp * 1000) fail('LINK_EXPIRED', 'The link has expired');

    const claims: VerifiedLinkClaims = {
      tenantId: t,
      campaignId: c,
      platform: p === 'A' ? 'APPLE' : 'GOOGLE',
      contact: storableRecord(ct),
      voucher: v === undefined ? {} : storableRecord(v),
      issuedAt: new Date(iat * 1000),
    };
    if (exp !== undefined) claims.expiresAt = new Date(exp * 1000);
    return claims;
  }

  private base64url(text: string): string {
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
    if (text.length * 3 > this.scratch.length) this.scratch = Buffer.alloc(text.length * 6);
    const length = this.scratch.write(text, 0, 'utf8');
    return this.scratch.toString('base64url', 0, length);
  }
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const key in record) {
    if (Object.hasOwn(record, key)) return true;
  }
  return false;
}
