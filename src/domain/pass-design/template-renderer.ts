import { CampaignTemplate, FIELD_GROUPS, PersonalisationData, TemplateField } from './campaign-template';

/**
 * Personalisation tokens in campaign templates.
 *
 * Grammar of one token (the text between `{{` and the first `}}` after it):
 *
 *     {{ <namespace>.<field> [| <default>] }}
 *
 * - `namespace` is `contact` or `voucher`.
 * - `field` is one or more segments of `[A-Za-z0-9_]`, joined by dots. A dotted name is looked up
 *   literally as one key (`{{contact.address.city}}` reads the key `"address.city"`): link data is
 *   flat, so there is nothing to walk into.
 * - `default` is everything after the first `|` up to `}}`, trimmed; it may hold spaces and any
 *   unicode but not `}}`. It is used when the value is missing, `null` or the empty string.
 * - Whitespace is allowed just inside the braces and around `|`.
 *
 * Rendering never fails: a token without a value or default becomes `''`, and anything between
 * braces that is not a valid token (unknown namespace, bad field name, unclosed `{{`) stays as
 * literal text. `validateTemplateTokens` is the strict counterpart used when a campaign is saved,
 * so such text never reaches a stored template through the API.
 *
 * Templates are data: values are looked up as own properties only (so `__proto__` or
 * `constructor` never reach prototype members), substituted values are never re-scanned for
 * tokens, and no regular expression or code is ever built from template text. Parsing and
 * rendering are linear in the input length.
 */

export type TemplateNamespace = 'contact' | 'voucher';

export interface TemplateToken {
  readonly namespace: TemplateNamespace;
  readonly field: string;
  /** `null` when the token has no `|default`. */
  readonly fallback: string | null;
}

export type TemplatePart = string | TemplateToken;

export interface CompiledString {
  readonly source: string;
  /** Literal text and tokens in order; adjacent literals are merged. */
  readonly parts: readonly TemplatePart[];
  /** The rendered text when the source holds no token, else `null`. */
  readonly constant: string | null;
  render(data: PersonalisationData): string;
}

export interface CompiledTemplate {
  render(data: PersonalisationData): CampaignTemplate;
  /** Fields each namespace uses, in order of first appearance. */
  readonly tokens: { contact: string[]; voucher: string[] };
}

const OPEN = '{{';
const CLOSE = '}}';
const TOKEN_BODY = /^\s*(contact|voucher)\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*(?:\|([\s\S]*))?$/;
const NAMESPACE_HEAD = /^\s*([A-Za-z0-9_]*)(\.?)/;
const FIELD_NAME = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;

function parseTokenBody(body: string): TemplateToken | null {
  const m = TOKEN_BODY.exec(body);
  if (!m) return null;
  return {
    namespace: m[1] as TemplateNamespace,
    field: m[2]!,
    fallback: m[3] === undefined ? null : m[3].trim(),
  };
}

/** One `{{…}}` candidate: where it opens, where its body starts and ends, or that it is unclosed. */
interface Candidate {
  open: number;
  /** Index of the closing `}}`, or -1 when the rest of the string has none. */
  close: number;
}

/**
 * Walks the `{{…}}` candidates of `s` left to right. A candidate's body starts after the last `{{`
 * before its `}}`, so `{{ {{contact.id}}` yields the literal `{{ ` and a token. Each character is
 * visited a bounded number of times: linear overall.
 */
function forEachCandidate(s: string, visit: (c: Candidate, literalFrom: number) => void): number {
  let pos = 0;
  while (pos < s.length) {
    const first = s.indexOf(OPEN, pos);
    if (first < 0) break;
    const close = s.indexOf(CLOSE, first + OPEN.length);
    if (close < 0) {
      visit({ open: first, close: -1 }, pos);
      return s.length;
    }
    // The innermost `{{` before this `}}`; never before `first`, and `}}` may overlap `{{{`.
    const open = s.lastIndexOf(OPEN, close - OPEN.length);
    visit({ open, close }, pos);
    pos = close + CLOSE.length;
  }
  return pos;
}

function lookup(record: unknown, field: string): string | null {
  if (record === null || typeof record !== 'object') return null;
  if (!Object.hasOwn(record, field)) return null;
  const value: unknown = (record as Record<string, unknown>)[field];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function renderToken(token: TemplateToken, data: PersonalisationData): string {
  const value = lookup(token.namespace === 'contact' ? data.contact : data.voucher, token.field);
  if (token.fallback !== null && (value === null || value === '')) return token.fallback;
  return value ?? '';
}

function renderParts(parts: readonly TemplatePart[], data: PersonalisationData): string {
  let out = '';
  for (const part of parts) {
    out += typeof part === 'string' ? part : renderToken(part, data);
  }
  return out;
}

export function compileTemplateString(source: string): CompiledString {
  const parts: TemplatePart[] = [];
  let literal = '';
  const end = forEachCandidate(source, ({ open, close }, literalFrom) => {
    if (close < 0) {
      literal += source.slice(literalFrom);
      return;
    }
    const token = parseTokenBody(source.slice(open + OPEN.length, close));
    if (token === null) {
      literal += source.slice(literalFrom, close + CLOSE.length);
      return;
    }
    literal += source.slice(literalFrom, open);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(token);
  });
  literal += source.slice(end);
  if (literal !== '') parts.push(literal);

  if (parts.every((p) => typeof p === 'string')) {
    return { source, parts, constant: source, render: () => source };
  }
  return { source, parts, constant: null, render: (data) => renderParts(parts, data) };
}

export function renderString(source: string, data: PersonalisationData): string {
  if (!source.includes(OPEN)) return source;
  return compileTemplateString(source).render(data);
}

/**
 * Explains the first malformed token in `source`, or `null` when every `{{` opens a valid token.
 * Strict on purpose: text that would render literally because of a typo is rejected on save.
 */
export function validateTemplateTokens(source: string): string | null {
  let error: string | null = null;
  forEachCandidate(source, ({ open, close }) => {
    if (error !== null) return;
    if (close < 0) {
      error = `unclosed "{{" at position ${open}`;
      return;
    }
    const body = source.slice(open + OPEN.length, close);
    if (parseTokenBody(body) !== null) return;
    error = explainBadToken(body);
  });
  return error;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function explainBadToken(body: string): string {
  const shown = `"{{${clip(body)}}}"`;
  const head = NAMESPACE_HEAD.exec(body);
  const namespace = head?.[1] ?? '';
  if (namespace === '' || head?.[2] !== '.') {
    return `${shown} is not a token; use {{contact.<field>}} or {{voucher.<field>}}`;
  }
  if (namespace !== 'contact' && namespace !== 'voucher') {
    return `${shown} uses unknown namespace "${namespace}"; use contact or voucher`;
  }
  const rest = body.slice(head[0].length);
  const pipe = rest.indexOf('|');
  const field = (pipe < 0 ? rest : rest.slice(0, pipe)).trim();
  if (field === '') return `${shown} has no field name after "${namespace}."`;
  if (!FIELD_NAME.test(field)) {
    return `${shown} has an invalid field name "${clip(field)}"; use letters, digits, "_" and "."`;
  }
  return `${shown} is malformed`;
}

/** Every text value of a template that may carry tokens, with a path naming it. */
function textValues(template: CampaignTemplate): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [
    { path: 'organizationName', text: template.organizationName },
    { path: 'description', text: template.description },
  ];
  if (template.logoText !== undefined) out.push({ path: 'logoText', text: template.logoText });
  for (const group of FIELD_GROUPS) {
    const fields = template[group] ?? [];
    fields.forEach((field, i) => {
      const at = `${group}[${i}]`;
      if (field.label !== undefined) out.push({ path: `${at}.label`, text: field.label });
      out.push({ path: `${at}.value`, text: field.value });
      if (field.changeMessage !== undefined) {
        out.push({ path: `${at}.changeMessage`, text: field.changeMessage });
      }
    });
  }
  if (template.barcode !== undefined) {
    out.push({ path: 'barcode.message', text: template.barcode.message });
    if (template.barcode.altText !== undefined) {
      out.push({ path: 'barcode.altText', text: template.barcode.altText });
    }
  }
  return out.filter((v) => typeof v.text === 'string');
}

/** The first malformed token of a whole template as `<path>: <problem>`, or `null`. */
export function findTemplateTokenError(template: CampaignTemplate): string | null {
  for (const { path, text } of textValues(template)) {
    const error = validateTemplateTokens(text);
    if (error !== null) return `${path}: ${error}`;
  }
  return null;
}

function compileField(field: TemplateField) {
  const label = field.label === undefined ? undefined : compileTemplateString(field.label);
  const value = compileTemplateString(field.value);
  const changeMessage =
    field.changeMessage === undefined ? undefined : compileTemplateString(field.changeMessage);
  return (data: PersonalisationData): TemplateField => {
    const out: TemplateField = { ...field, value: value.render(data) };
    if (label !== undefined) out.label = label.render(data);
    if (changeMessage !== undefined) out.changeMessage = changeMessage.render(data);
    return out;
  };
}

/**
 * Pre-parses every text value of a template once; `render` then only concatenates. Colours, keys,
 * the barcode format and any other non-text property are copied unchanged.
 */
export function compileTemplate(template: CampaignTemplate): CompiledTemplate {
  const organizationName = compileTemplateString(template.organizationName);
  const description = compileTemplateString(template.description);
  const logoText = template.logoText === undefined ? undefined : compileTemplateString(template.logoText);
  const groups = FIELD_GROUPS.map((group) => ({
    group,
    fields: (template[group] ?? []).map(compileField),
  }));
  const barcode = template.barcode;
  const barcodeMessage = barcode === undefined ? undefined : compileTemplateString(barcode.message);
  const barcodeAltText = barcode?.altText === undefined ? undefined : compileTemplateString(barcode.altText);

  return {
    get tokens() {
      return collectTokens(template);
    },
    render(data: PersonalisationData): CampaignTemplate {
      const out: CampaignTemplate = {
        ...template,
        organizationName: organizationName.render(data),
        description: description.render(data),
      };
      if (logoText !== undefined) out.logoText = logoText.render(data);
      for (const { group, fields } of groups) {
        out[group] = fields.map((render) => render(data));
      }
      if (barcode !== undefined && barcodeMessage !== undefined) {
        out.barcode = { ...barcode, message: barcodeMessage.render(data) };
        if (barcodeAltText !== undefined) out.barcode.altText = barcodeAltText.render(data);
      }
      return out;
    },
  };
}

export function renderTemplate(template: CampaignTemplate, data: PersonalisationData): CampaignTemplate {
  return compileTemplate(template).render(data);
}

function collectTokens(template: CampaignTemplate): { contact: string[]; voucher: string[] } {
  const contact = new Set<string>();
  const voucher = new Set<string>();
  for (const { text } of textValues(template)) {
    for (const part of compileTemplateString(text).parts) {
      if (typeof part === 'string') continue;
      (part.namespace === 'contact' ? contact : voucher).add(part.field);
    }
  }
  return { contact: [...contact], voucher: [...voucher] };
}

/** Which contact and voucher fields a template uses, in order of first appearance. */
export function templateTokens(template: CampaignTemplate): { contact: string[]; voucher: string[] } {
  return collectTokens(template);
}
