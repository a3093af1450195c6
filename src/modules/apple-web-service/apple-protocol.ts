/**
 * Pure parsing for Apple's PassKit web service protocol: the ApplePass authorization header,
 * the identifiers devices send, change tags and device log messages.
 */

const APPLE_PASS_AUTH = /^ApplePass[ \t]+(\S+)[ \t]*$/i;
const DEVICE_LIBRARY_IDENTIFIER = /^[A-Za-z0-9._-]{1,128}$/;
/** APNs device tokens are hex (64 characters today); Apple reserves the right to lengthen them. */
const PUSH_TOKEN = /^[0-9A-Fa-f]{16,512}$/;
const TAG = /^[0-9]{1,19}$/;
const MAX_TAG = 2n ** 63n - 1n;

/** Longer than any serial number or pass type identifier we issue; such a path cannot name a pass. */
export const MAX_IDENTIFIER_LENGTH = 256;
export const MAX_LOG_MESSAGES = 100;
export const MAX_LOG_MESSAGE_LENGTH = 2000;

/** The token of an `Authorization: ApplePass <token>` header, or null for any other header. */
export function applePassToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = APPLE_PASS_AUTH.exec(header);
  return m?.[1] ?? null;
}

export function isDeviceLibraryIdentifier(value: string): boolean {
  return DEVICE_LIBRARY_IDENTIFIER.test(value);
}

/** The push token of a registration body, lower-cased (APNs tokens are case-insensitive), or null. */
export function pushTokenOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const token = (body as { pushToken?: unknown }).pushToken;
  if (typeof token !== 'string' || !PUSH_TOKEN.test(token)) return null;
  return token.toLowerCase();
}

/**
 * A `passesUpdatedSince` tag we issued (a decimal change sequence), or null. Anything else — from
 * an older server, or mangled — counts as no tag: the device then gets every serial it is
 * registered for, fetches them with If-Modified-Since and receives 304s for unchanged passes.
 */
export function parseTag(value: unknown): bigint | null {
  if (typeof value !== 'string' || !TAG.test(value)) return null;
  const tag = BigInt(value);
  return tag <= MAX_TAG ? tag : null;
}

/** `If-Modified-Since` allows a 304 when the pass changed no later than that whole second. */
export function notModifiedSince(lastModified: Date, ifModifiedSince: string | undefined): boolean {
  if (!ifModifiedSince) return false;
  const since = Date.parse(ifModifiedSince);
  if (Number.isNaN(since)) return false;
  return Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
}

/** 100 messages of 2,000 characters with JSON quoting, and room to spare; Fastify answers 413 beyond. */
export const MAX_LOG_BODY_BYTES = 256 * 1024;

/** Fastify `onRoute` hook: `POST …/v1/log` (every mount point) reads at most MAX_LOG_BODY_BYTES. */
export function limitDeviceLogBody(route: {
  method: string | string[];
  url: string;
  bodyLimit?: number;
}): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (methods.includes('POST') && route.url.endsWith('/v1/log')) route.bodyLimit = MAX_LOG_BODY_BYTES;
}

/** Why a `POST /v1/log` body is refused: the field it names and whether it is too large (413) or malformed (400). */
export interface LogBodyProblem {
  tooLarge: boolean;
  field: string;
  message: string;
}

/**
 * The messages of a `POST /v1/log` body `{ logs: string[] }`, or the problem with it: more than
 * MAX_LOG_MESSAGES messages is too large (413), a message longer than MAX_LOG_MESSAGE_LENGTH
 * characters too (413, naming it), any other shape malformed (400).
 */
export function logMessagesOf(body: unknown): string[] | LogBodyProblem {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { tooLarge: false, field: 'logs', message: 'must be an array of strings' };
  }
  const logs = (body as { logs?: unknown }).logs;
  if (!Array.isArray(logs)) return { tooLarge: false, field: 'logs', message: 'must be an array of strings' };
  if (logs.length > MAX_LOG_MESSAGES) {
    return { tooLarge: true, field: 'logs', message: `must hold at most ${MAX_LOG_MESSAGES} messages` };
  }
  for (let i = 0; i < logs.length; i++) {
    const l: unknown = logs[i];
    if (typeof l !== 'string') return { tooLarge: false, field: `logs[${i}]`, message: 'must be a string' };
    if (l.length > MAX_LOG_MESSAGE_LENGTH) {
      return {
        tooLarge: true,
        field: `logs[${i}]`,
        message: `must be at most ${MAX_LOG_MESSAGE_LENGTH} characters`,
      };
    }
  }
  return logs as string[];
}

export interface DeviceLogContext {
  passTypeIdentifier?: string;
  serialNumber?: string;
  deviceLibraryIdentifier?: string;
}

const ID = '[A-Za-z0-9._~%-]+';
const REGISTRATION_URL = new RegExp(`/v1/devices/(${ID})/registrations/(${ID})(?:/(${ID}))?`);
const PASS_URL = new RegExp(`/v1/passes/(${ID})/(${ID})`);
const SERIAL_PHRASE = /\bserial(?:\s+number)?(?:\s*[:=]\s*|\s+)['"‘“(]?([A-Za-z0-9._~-]{1,256})/i;
const PASS_TYPE = /\b(pass\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/;
const DEVICE_PHRASE =
  /\bdevice(?:\s+library)?\s+identifier(?:\s*[:=]\s*|\s+)['"‘“(]?([A-Za-z0-9._-]{1,128})/i;

function decode(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * What a Wallet log message names. Devices log the request URL (`…/v1/passes/<type>/<serial>`,
 * `…/v1/devices/<device>/registrations/<type>/<serial>`) or phrases such as
 * "Update requested for unregistered serial number '…'"; anything not found stays undefined.
 */
export function deviceLogContext(message: string): DeviceLogContext {
  const ctx: DeviceLogContext = {};
  const registration = REGISTRATION_URL.exec(message);
  if (registration) {
    ctx.deviceLibraryIdentifier = decode(registration[1]);
    ctx.passTypeIdentifier = decode(registration[2]);
    ctx.serialNumber = decode(registration[3]);
  }
  const pass = PASS_URL.exec(message);
  if (pass) {
    ctx.passTypeIdentifier ??= decode(pass[1]);
    ctx.serialNumber ??= decode(pass[2]);
  }
  ctx.serialNumber ??= SERIAL_PHRASE.exec(message)?.[1];
  ctx.passTypeIdentifier ??= PASS_TYPE.exec(message)?.[1];
  ctx.deviceLibraryIdentifier ??= DEVICE_PHRASE.exec(message)?.[1];
  for (const key of Object.keys(ctx) as (keyof DeviceLogContext)[]) {
    const v = ctx[key];
    if (v === undefined || v.length > MAX_IDENTIFIER_LENGTH) delete ctx[key];
  }
  return ctx;
}
