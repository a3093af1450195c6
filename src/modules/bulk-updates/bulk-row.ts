import { DomainError } from '../../common/errors';
import { textProblem, toStorableText } from '../../common/http/text-policy';
import { PersonalisationValue } from '../../domain/pass-design/campaign-template';
import {
  MAX_PERSONALISATION_BYTES,
  MAX_PERSONALISATION_KEY_LENGTH,
  personalisationObjectProblem,
} from '../links/link-request.validator';
import { CsvRecord } from './csv-record-parser';

/**
 * One row of a bulk update, checked on its own (no database): which pass(es) it names and the
 * contact/voucher attributes it sets. Rules (the same limits as `PATCH …/passes/:serial`):
 *
 * - The key is a `serialNumber`, a `voucher.code` (the pass whose identity is that code) or a
 *   `contact.id` (every pass of the campaign whose contact has that id).
 * - `contact` and `voucher` are flat objects: at most 50 properties, names 1-100 characters, values
 *   strings of at most 500 characters, finite numbers, booleans or null; both together at most
 *   8 KiB as JSON.
 * - `contact.id` and `voucher.code` identify passes and cannot be changed by an update.
 * - A row must change something.
 * - Keys, attribute names and values follow the service's text policy (no NUL, no lone surrogate).
 */
export type BulkKeyKind = 's' | 'v' | 'c';

export interface BulkRow {
  line: number;
  keyKind: BulkKeyKind;
  key: string;
  contact: Record<string, PersonalisationValue> | null;
  voucher: Record<string, PersonalisationValue> | null;
}

export type BulkRowErrorCode =
  | 'CSV_SYNTAX'
  | 'ROW_TOO_LONG'
  | 'WRONG_FIELD_COUNT'
  | 'INVALID_JSON'
  | 'INVALID_ROW'
  | 'MISSING_KEY'
  | 'INVALID_KEY'
  | 'INVALID_CONTACT'
  | 'INVALID_VOUCHER'
  | 'INVALID_TEXT'
  | 'IDENTITY_IMMUTABLE'
  | 'PERSONALISATION_TOO_LARGE'
  | 'NO_CHANGES'
  | 'PASS_NOT_FOUND';

export interface BulkRowError {
  line: number;
  code: BulkRowErrorCode;
  message: string;
}

export type BulkRowResult = { ok: true; row: BulkRow } | { ok: false; error: BulkRowError };

/** Longest row (CSV record or NDJSON line) read, in characters; longer rows are reported, not kept. */
export const MAX_ROW_CHARS = 64 * 1024;
const MAX_KEY_LENGTH = 500;
const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;

const KEY_COLUMNS: Record<string, BulkKeyKind> = {
  serialNumber: 's',
  'voucher.code': 'v',
  'contact.id': 'c',
};
const NDJSON_KEYS: Record<string, BulkKeyKind> = { serialNumber: 's', voucherCode: 'v', contactId: 'c' };
const KEY_NAMES: Record<BulkKeyKind, string> = { s: 'serialNumber', v: 'voucher code', c: 'contact id' };

export interface CsvHeader {
  keyKind: BulkKeyKind;
  keyIndex: number;
  columns: { index: number; target: 'contact' | 'voucher'; name: string }[];
  width: number;
}

/** The header row: exactly one key column, then `contact.<field>` / `voucher.<field>` columns. */
export function parseCsvHeader(record: CsvRecord | undefined): CsvHeader {
  if (!record) throw DomainError.validation('body', 'the upload is empty; expected a header row');
  if (record.error) throw DomainError.validation('body', `header row: ${record.error.message}`);
  let key: { kind: BulkKeyKind; index: number } | undefined;
  const columns: CsvHeader['columns'] = [];
  const seen = new Set<string>();
  record.fields.forEach((raw, index) => {
    const name = raw.trim();
    const at = `header column ${index + 1}`;
    if (seen.has(name)) throw DomainError.validation('body', `${at}: "${clip(name)}" appears twice`);
    seen.add(name);
    const kind = KEY_COLUMNS[name];
    if (kind) {
      if (key) {
        throw DomainError.validation(
          'body',
          `${at}: only one key column (serialNumber, voucher.code or contact.id) may be given`,
        );
      }
      key = { kind, index };
      return;
    }
    const m = /^(contact|voucher)\.(.+)$/.exec(name);
    if (!m) {
      throw DomainError.validation(
        'body',
        `${at}: "${clip(name)}" is not serialNumber, voucher.code, contact.id, contact.<field> or voucher.<field>`,
      );
    }
    const field = m[2]!;
    if (field.length > MAX_PERSONALISATION_KEY_LENGTH || field === '__proto__') {
      throw DomainError.validation(
        'body',
        `${at}: attribute names are 1-${MAX_PERSONALISATION_KEY_LENGTH} characters (and not __proto__)`,
      );
    }
    columns.push({ index, target: m[1] as 'contact' | 'voucher', name: field });
  });
  if (!key) {
    throw DomainError.validation(
      'body',
      'the header needs a key column: serialNumber, voucher.code or contact.id',
    );
  }
  if (columns.length === 0) {
    throw DomainError.validation(
      'body',
      'the header names no contact.<field> or voucher.<field> column to change',
    );
  }
  return { keyKind: key.kind, keyIndex: key.index, columns, width: record.fields.length };
}

/**
 * A CSV data row. An empty unquoted field leaves the attribute as it is; a quoted empty field
 * (`""`) sets it to the empty string.
 */
export function csvRow(header: CsvHeader, record: CsvRecord): BulkRowResult {
  const line = record.line;
  if (record.error) return fail(line, record.error.code, record.error.message);
  if (record.fields.length !== header.width) {
    return fail(
      line,
      'WRONG_FIELD_COUNT',
      `the row has ${record.fields.length} fields; the header has ${header.width}`,
    );
  }
  const contact: Record<string, PersonalisationValue> = {};
  const voucher: Record<string, PersonalisationValue> = {};
  for (const c of header.columns) {
    const value = record.fields[c.index]!;
    if (value === '' && !record.quoted[c.index]) continue;
    (c.target === 'contact' ? contact : voucher)[c.name] = value;
  }
  return checkRow(
    line,
    header.keyKind,
    record.fields[header.keyIndex]!,
    hasKeys(contact) ? contact : null,
    hasKeys(voucher) ? voucher : null,
  );
}

/** An NDJSON line: `{ "serialNumber" | "voucherCode" | "contactId", "contact"?, "voucher"? }`. */
export function ndjsonRow(line: number, text: string): BulkRowResult | null {
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(line, 'INVALID_JSON', `not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(line, 'INVALID_ROW', 'each line must be a JSON object');
  }
  const obj = value as Record<string, unknown>;
  let key: { kind: BulkKeyKind; value: unknown; name: string } | undefined;
  for (const name of Object.keys(obj)) {
    const kind = NDJSON_KEYS[name];
    if (kind) {
      if (obj[name] === undefined || obj[name] === null) continue;
      if (key) {
        return fail(
          line,
          'INVALID_KEY',
          `give one of serialNumber, voucherCode or contactId, not ${key.name} and ${name}`,
        );
      }
      key = { kind, value: obj[name], name };
    } else if (name !== 'contact' && name !== 'voucher') {
      return fail(line, 'INVALID_ROW', `unknown property "${clip(name)}"`);
    }
  }
  if (!key) return fail(line, 'MISSING_KEY', 'give serialNumber, voucherCode or contactId');
  const raw = key.value;
  if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) {
    return fail(line, 'INVALID_KEY', `${key.name} must be a string or a number`);
  }
  for (const field of ['contact', 'voucher'] as const) {
    const v = obj[field];
    if (v === undefined || v === null) continue;
    const problem = personalisationObjectProblem(v, field);
    if (problem) return fail(line, field === 'contact' ? 'INVALID_CONTACT' : 'INVALID_VOUCHER', problem);
  }
  return checkRow(
    line,
    key.kind,
    String(raw),
    (obj.contact as Record<string, PersonalisationValue> | null | undefined) ?? null,
    (obj.voucher as Record<string, PersonalisationValue> | null | undefined) ?? null,
  );
}

function checkRow(
  line: number,
  keyKind: BulkKeyKind,
  rawKey: string,
  contact: Record<string, PersonalisationValue> | null,
  voucher: Record<string, PersonalisationValue> | null,
): BulkRowResult {
  const key = keyKind === 's' ? rawKey.trim() : rawKey;
  if (key.trim() === '') return fail(line, 'MISSING_KEY', `the ${KEY_NAMES[keyKind]} is empty`);
  if (keyKind === 's' ? !SERIAL.test(key) : key.length > MAX_KEY_LENGTH) {
    return fail(line, 'INVALID_KEY', `the ${KEY_NAMES[keyKind]} is not a valid one`);
  }
  for (const [obj, field] of [
    [contact, 'contact'],
    [voucher, 'voucher'],
  ] as const) {
    if (!obj) continue;
    const problem = personalisationObjectProblem(obj, field);
    if (problem) return fail(line, field === 'contact' ? 'INVALID_CONTACT' : 'INVALID_VOUCHER', problem);
  }
  const keyText = textProblem(key);
  if (keyText) return fail(line, 'INVALID_TEXT', `the ${KEY_NAMES[keyKind]} ${keyText}`);
  for (const [obj, field] of [
    [contact, 'contact'],
    [voucher, 'voucher'],
  ] as const) {
    if (!obj) continue;
    for (const [name, value] of Object.entries(obj)) {
      const problem = textProblem(name) ?? (typeof value === 'string' ? textProblem(value) : null);
      if (problem) return fail(line, 'INVALID_TEXT', `${field}.${name.slice(0, 100)} ${problem}`);
    }
  }
  if (contact && Object.prototype.hasOwnProperty.call(contact, 'id')) {
    return fail(line, 'IDENTITY_IMMUTABLE', 'contact.id identifies passes and cannot be changed');
  }
  if (voucher && Object.prototype.hasOwnProperty.call(voucher, 'code')) {
    return fail(line, 'IDENTITY_IMMUTABLE', 'voucher.code identifies passes and cannot be changed');
  }
  if (!hasKeys(contact) && !hasKeys(voucher)) {
    return fail(line, 'NO_CHANGES', 'the row sets no contact or voucher attribute');
  }
  const bytes =
    Buffer.byteLength(JSON.stringify(contact ?? {})) + Buffer.byteLength(JSON.stringify(voucher ?? {}));
  if (bytes > MAX_PERSONALISATION_BYTES) {
    return fail(
      line,
      'PERSONALISATION_TOO_LARGE',
      `contact and voucher take ${bytes} bytes as JSON; at most ${MAX_PERSONALISATION_BYTES} are allowed`,
    );
  }
  return {
    ok: true,
    row: {
      line,
      keyKind,
      key,
      contact: hasKeys(contact) ? contact : null,
      voucher: hasKeys(voucher) ? voucher : null,
    },
  };
}

function hasKeys(o: Record<string, unknown> | null): o is Record<string, unknown> {
  if (!o) return false;
  for (const _ in o) return true;
  return false;
}

/** Messages may quote the row (names, JSON excerpts); they are stored, so they follow the text policy. */
function fail(line: number, code: BulkRowErrorCode, message: string): BulkRowResult {
  return { ok: false, error: { line, code, message: toStorableText(message) } };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
