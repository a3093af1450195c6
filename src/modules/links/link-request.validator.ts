import { textProblem } from '../../common/http/text-policy';
import { PersonalisationValue } from '../../domain/pass-design/campaign-template';
import { LinkPlatform } from './link-token';

/**
 * Checks one item of `POST /pers/v1/urls` by hand: a batch holds up to 1,000 items and a
 * decorator-based validator costs more than signing the links. Nothing here touches the database.
 *
 * Choices where the contract is silent:
 * - `platform` is case-insensitive (`"apple"` works) and normalised to upper case.
 * - `campaignId` must be a UUID (any version) and is normalised to lower case, so the same campaign
 *   always yields the same token and pass identity.
 * - `contact` and `voucher` are flat objects of at most 50 keys; values are strings (at most 500
 *   characters), finite numbers, booleans or null; keys are 1-100 characters and never `__proto__`.
 *   Keys and strings follow the text policy (no NUL, no lone surrogate): the JSON parser leaves
 *   that check to this validator on this route, so such an item gets its own error slot.
 *   `voucher` may be left out or null. Together they are at most 8 KiB as JSON, so a link stays a
 *   valid URL (Node and most proxies cap the request line and headers at 16 KiB).
 * - The pass identity is (campaign, voucher code), or (campaign, contact id) without a voucher code,
 *   so `voucher.code` or `contact.id` must be a non-empty string or a number.
 * - `expiresAt` is an ISO 8601 date-time with seconds optional and a `Z` or `±hh:mm` offset (a bare
 *   date would be ambiguous across time zones), strictly in the future. Null means no expiry.
 * - Unknown top-level properties are ignored.
 */

export interface ValidLinkRequest {
  campaignId: string;
  platform: LinkPlatform;
  contact: Record<string, PersonalisationValue>;
  voucher: Record<string, PersonalisationValue>;
  expiresAt?: Date;
}

export type LinkRequestErrorCode =
  | 'INVALID_REQUEST'
  | 'MISSING_CAMPAIGN_ID'
  | 'INVALID_CAMPAIGN_ID'
  | 'MISSING_PLATFORM'
  | 'INVALID_PLATFORM'
  | 'INVALID_CONTACT'
  | 'INVALID_VOUCHER'
  | 'PERSONALISATION_TOO_LARGE'
  | 'MISSING_IDENTITY'
  | 'INVALID_EXPIRES_AT';

export interface LinkRequestError {
  code: LinkRequestErrorCode;
  message: string;
}

export type LinkRequestValidation =
  { ok: true; value: ValidLinkRequest } | { ok: false; error: LinkRequestError };

export const MAX_PERSONALISATION_KEYS = 50;
export const MAX_PERSONALISATION_STRING_LENGTH = 500;
export const MAX_PERSONALISATION_KEY_LENGTH = 100;
/** UTF-8 bytes of `contact` and `voucher` as JSON. */
export const MAX_PERSONALISATION_BYTES = 8192;
/**
 * Below this many UTF-16 units of keys and values the JSON cannot reach the byte limit: a unit takes
 * at most 6 bytes (`\u001f`), and at most 100 properties add quotes, colons and commas.
 */
const PERSONALISATION_CHARS_ALWAYS_OK = 1200;
/** Upper bound of the JSON length of a finite number, boolean or null. */
const SCALAR_CHARS = 24;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Parses a strict ISO 8601 date-time; `NaN` for impossible dates such as February 30 or 24:00. */
function parseIsoDateTime(text: string): number {
  const m = ISO_DATE_TIME.exec(text);
  if (m === null) return NaN;
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = m
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  const daysInMonth = new Date(Date.UTC(year!, month, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth) return NaN;
  if (hour! > 23 || minute! > 59 || second! > 59 || offsetHour! > 23 || offsetMinute! > 59) return NaN;
  return Date.parse(text);
}

function invalid(code: LinkRequestErrorCode, message: string): LinkRequestValidation {
  return { ok: false, error: { code, message } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Why `record` is not a valid personalisation object, or `null` when it is. Adds the length of its
 * keys and values to `size.chars`.
 */
function personalisationProblem(
  record: Record<string, unknown>,
  at: string,
  size: { chars: number },
): string | null {
  const keys = Object.keys(record);
  if (keys.length > MAX_PERSONALISATION_KEYS) {
    return `${at} has ${keys.length} properties; at most ${MAX_PERSONALISATION_KEYS} are allowed`;
  }
  for (const key of keys) {
    if (key === '' || key.length > MAX_PERSONALISATION_KEY_LENGTH || key === '__proto__') {
      return `${at} has an invalid property name; names are 1-${MAX_PERSONALISATION_KEY_LENGTH} characters`;
    }
    const keyText = textProblem(key);
    if (keyText !== null) return `${at} has a property name that ${keyText}`;
    const value = record[key];
    size.chars += key.length + (typeof value === 'string' ? value.length : SCALAR_CHARS);
    if (typeof value === 'string') {
      if (value.length > MAX_PERSONALISATION_STRING_LENGTH) {
        return `${at}.${key} is longer than ${MAX_PERSONALISATION_STRING_LENGTH} characters`;
      }
      const valueText = textProblem(value);
      if (valueText !== null) return `${at}.${key} ${valueText}`;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${at}.${key} must be a finite number`;
    } else if (typeof value !== 'boolean' && value !== null) {
      return `${at}.${key} must be a string, number, boolean or null`;
    }
  }
  return null;
}

function isIdentity(value: unknown): boolean {
  return (
    (typeof value === 'string' && value.trim() !== '') ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * Validates `item`, the `index`-th element of `requests`. Valid items are returned without copying
 * `contact` and `voucher` (they are only read afterwards).
 */
export function validateLinkRequest(
  item: unknown,
  index: number,
  now: number = Date.now(),
): LinkRequestValidation {
  const at = `requests[${index}]`;
  if (!isPlainObject(item)) return invalid('INVALID_REQUEST', `${at} must be an object`);

  const { campaignId, platform, contact, voucher, expiresAt } = item;

  if (campaignId === undefined || campaignId === null || campaignId === '') {
    return invalid('MISSING_CAMPAIGN_ID', `${at}.campaignId is required`);
  }
  if (typeof campaignId !== 'string' || !UUID.test(campaignId)) {
    return invalid('INVALID_CAMPAIGN_ID', `${at}.campaignId must be a UUID`);
  }

  if (platform === undefined || platform === null || platform === '') {
    return invalid('MISSING_PLATFORM', `${at}.platform is required (APPLE or GOOGLE)`);
  }
  const normalisedPlatform =
    typeof platform === 'string' && platform.length <= 6 ? platform.toUpperCase() : '';
  if (normalisedPlatform !== 'APPLE' && normalisedPlatform !== 'GOOGLE') {
    const got = typeof platform === 'string' && platform.length <= 20 ? `, not "${platform}"` : '';
    return invalid('INVALID_PLATFORM', `${at}.platform must be APPLE or GOOGLE${got}`);
  }

  const dataProblem = personalisationDataProblem(contact, voucher, `${at}.`);
  if (dataProblem !== null) return invalid(dataProblem.code, dataProblem.message);
  // personalisationDataProblem returned null: contact is an object, voucher an object or absent.
  const contactRecord = contact as Record<string, unknown>;
  const voucherRecord = (voucher ?? {}) as Record<string, unknown>;

  if (!isIdentity(voucherRecord.code) && !isIdentity(contactRecord.id)) {
    return invalid('MISSING_IDENTITY', `${at} needs voucher.code or contact.id to identify the pass`);
  }

  let expiry: Date | undefined;
  if (expiresAt !== undefined && expiresAt !== null) {
    const time = typeof expiresAt === 'string' && expiresAt.length <= 40 ? parseIsoDateTime(expiresAt) : NaN;
    if (Number.isNaN(time)) {
      return invalid(
        'INVALID_EXPIRES_AT',
        `${at}.expiresAt must be an ISO 8601 date-time with an offset, e.g. 2030-01-31T23:59:59Z`,
      );
    }
    if (time <= now) return invalid('INVALID_EXPIRES_AT', `${at}.expiresAt must be in the future`);
    expiry = new Date(time);
  }

  const value: ValidLinkRequest = {
    campaignId: campaignId.toLowerCase(),
    platform: normalisedPlatform,
    // personalisationProblem returned null: every value is a PersonalisationValue.
    contact: contactRecord as Record<string, PersonalisationValue>,
    voucher: voucherRecord as Record<string, PersonalisationValue>,
  };
  if (expiry !== undefined) value.expiresAt = expiry;
  return { ok: true, value };
}

export interface PersonalisationDataProblem {
  code: 'INVALID_CONTACT' | 'INVALID_VOUCHER' | 'PERSONALISATION_TOO_LARGE';
  /** `contact`, `voucher`, or `contact.<key>` / `voucher.<key>` (without the prefix). */
  field: string;
  message: string;
}

/**
 * The limits of a pass's personalisation data, one definition for link requests and for the data a
 * pass holds after a PATCH: `contact` an object, `voucher` an object or absent/null, each within
 * the key, name and value limits above, and both together at most MAX_PERSONALISATION_BYTES of
 * JSON. `prefix` (e.g. `requests[3].`) is put before the field names in messages.
 */
export function personalisationDataProblem(
  contact: unknown,
  voucher: unknown,
  prefix = '',
): PersonalisationDataProblem | null {
  const problem = (code: PersonalisationDataProblem['code'], field: string, message: string) => ({
    code,
    field,
    message,
  });
  if (!isPlainObject(contact)) {
    return problem('INVALID_CONTACT', 'contact', `${prefix}contact must be an object`);
  }
  const size = { chars: 0 };
  const contactProblem = personalisationProblem(contact, `${prefix}contact`, size);
  if (contactProblem !== null) return problem('INVALID_CONTACT', 'contact', contactProblem);
  let voucherRecord: Record<string, unknown> = {};
  if (voucher !== undefined && voucher !== null) {
    if (!isPlainObject(voucher)) {
      return problem('INVALID_VOUCHER', 'voucher', `${prefix}voucher must be an object`);
    }
    const voucherProblem = personalisationProblem(voucher, `${prefix}voucher`, size);
    if (voucherProblem !== null) return problem('INVALID_VOUCHER', 'voucher', voucherProblem);
    voucherRecord = voucher;
  }
  if (size.chars > PERSONALISATION_CHARS_ALWAYS_OK) {
    const bytes =
      Buffer.byteLength(JSON.stringify(contact)) + Buffer.byteLength(JSON.stringify(voucherRecord));
    if (bytes > MAX_PERSONALISATION_BYTES) {
      return problem(
        'PERSONALISATION_TOO_LARGE',
        'contact',
        `${prefix}contact and ${prefix}voucher take ${bytes} bytes as JSON; at most ${MAX_PERSONALISATION_BYTES} fit in a link`,
      );
    }
  }
  return null;
}

/** Why `value` is not a personalisation object (contact or voucher), or `null` when it is. */
export function personalisationObjectProblem(value: unknown, at: string): string | null {
  if (!isPlainObject(value)) return `${at} must be an object`;
  return personalisationProblem(value, at, { chars: 0 });
}
