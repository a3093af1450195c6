/**
 * Property-based fuzzing of every route the service documents.
 *
 * The routes, their path/query/header parameters and request-body schemas come from the running
 * app's OpenAPI document (`/docs/openapi.json`), so a route added later is fuzzed without touching
 * this file. For each route fast-check generates requests that are mostly well-formed (so they get
 * past the first check and reach deeper code) with hostile values mixed in: NUL and lone
 * surrogates, huge/negative/fractional numbers, wrong types, prototype keys, very long strings,
 * deep nesting, malformed JSON, odd content types, hostile path segments, query strings and
 * headers. Path ids are drawn from real resources: the fuzzed tenant's throwaway resources, and
 * another tenant's (which must stay untouched).
 *
 * Properties, per request: never a 5xx, an answer within 5 s, and every 4xx JSON body is the error
 * body (`{ error: { code, message, correlationId } }`) with `fields` naming the field when it is a
 * validation error. After all requests: `/health` is ok, the bystander tenant's rows are exactly as
 * before, the fuzzed tenant's anchor resources (never offered to the fuzzer) are unchanged, and an
 * unauthenticated pass changed nothing at all.
 *
 * `FUZZ_SEED` replays a run (the seed is printed); `FUZZ_RUNS` sets the cases per route (default
 * 24 authenticated + 8 unauthenticated); `FUZZ_TIME_LIMIT_MS` bounds the requests (default 80 s; setup adds ~30 s).
 */
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { FakeGoogle, startFakeGoogle } from './support/fake-google';
import { ADMIN_TOKEN, startTestApp, TestApp } from './support/test-app';
import { createCampaign, createWalletConfiguration, linkPath, makeLinks } from './support/fixtures';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 24;
const UNAUTH_RUNS = Math.max(2, Math.ceil(RUNS / 3));
const TIME_LIMIT_MS = process.env.FUZZ_TIME_LIMIT_MS ? Number(process.env.FUZZ_TIME_LIMIT_MS) : 80_000;
const SLOW_MS = 5000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, any>;

interface Operation {
  method: string;
  /** OpenAPI path template, e.g. `/api/v1/campaigns/{id}` */
  path: string;
  pathParams: string[];
  query: { name: string; schema: Schema }[];
  headers: { name: string; schema: Schema }[];
  body: Schema | null;
  security: 'admin' | 'tenant' | 'public';
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** What the case was, for the report. */
  note: string;
}

interface Failure {
  route: string;
  problem: string;
  request: FuzzRequest;
  status?: number;
  answer?: string;
}

// ---------------------------------------------------------------- hostile values

const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDC00y',
  '\uDBFF\uDFFF',
  '\u{1F600}',
  '%00',
  '%',
  '%zz',
  '../../../etc/passwd',
  '..',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  "' OR '1'='1",
  '"; DROP TABLE tenants; --',
  '${7*7}',
  '{{contact.__proto__}}',
  '{{constructor.constructor}}',
  '{{voucher.code|{{contact.id}}}}',
  '<script>alert(1)</script>',
  '\r\nX-Injected: 1',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e400',
  '99999999999999999999999',
  '2147483648',
  '-2147483649',
  '9007199254740993',
  '0x10',
  'null',
  'true',
  '[]',
  '{}',
  '\u202Eevil',
  '\uFEFF',
  'e\u0301',
  'pass.com.example.voucher',
  'ABCDE12345',
  '#ffffff',
  '2030-01-01T00:00:00Z',
  '0000-00-00T25:61:61Z',
  'a1b2c3d4e5f60718293a4b5c6d7e8f90',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 5 }), surrogate, fc.string({ maxLength: 5 }))
      .map(([a, s, b]) => a + s + b),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('a', 'é', '\u{1F600}', '\u0000', '\uD800'),
        fc.integer({ min: 1_000, max: 120_000 }),
      )
      .map(([c, n]) => c.repeat(n)),
  },
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1.5,
    -1.5,
    2 ** 31,
    2 ** 31 - 1,
    -(2 ** 31) - 1,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    1e308,
    -1e308,
    1e21,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Objects whose keys are dangerous: prototype names, NUL, surrogates, very many keys. */
const hostileObject: fc.Arbitrary<Json> = fc.oneof(
  fc.dictionary(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'a\u0000', '\uD800', '', 'valueOf'),
    fc.oneof(
      fc.constant<Json>({ polluted: true }),
      fc.constant<Json>('x'),
      fc.constant<Json>({ prototype: { x: 1 } }),
    ),
    { minKeys: 1, maxKeys: 3 },
  ),
  fc.integer({ min: 100, max: 20_000 }).map((n) => {
    const many: Record<string, Json> = {};
    for (let i = 0; i < n; i++) many[`k${i}`] = i;
    return many;
  }),
);

const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, [null], [[[]]]) },
  { weight: 2, arbitrary: hostileObject },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 20, max: 60 }).map((depth) => {
      let v: Json = 'deep';
      for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
      return v;
    }),
  },
);

/** Raw JSON-ish texts that a JSON value cannot express: malformed, deeply nested, huge. */
const rawJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    '[1,]',
    "{'a':1}",
    'nul',
    '{"a":1}garbage',
    '"\\ud800"',
    '{"a":"\\u00"}',
    '{"a":"\\u0000"}',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '\u0000',
    '1',
    '"string"',
    'null',
    '[]',
    '{"a":1,"a":2}',
    '\uFEFF{}',
    '{"a":1e999}',
    '{"a":-0}',
  ),
  fc.integer({ min: 33, max: 100_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 33, max: 50_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.integer({ min: 100_000, max: 1_500_000 }).map((n) => `{"name":"${'a'.repeat(n)}"}`),
);

const ODD_CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'application/octet-stream',
  'text/csv',
  'application/x-ndjson',
  'image/png',
  ';;;',
  'application/vnd.api+json',
  'application/merge-patch+json',
];

const oddBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'a=1&b=2',
    'name=%00',
    '__proto__[x]=1',
    'name=a&name=b',
    '<xml/>',
    '--x\r\n\r\n--x--',
    'a,b\n1,2',
  ),
  hostileString,
  rawJsonText,
);

/** Percent-encodes any string, including lone surrogates (as the 3-byte form UTF-8 forbids). */
function encodeSegment(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      out +=
        `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

const rawPathSegment: fc.Arbitrary<string> = fc.oneof(
  hostileString.map(encodeSegment),
  fc.constantFrom(
    '%00',
    '%zz',
    '%',
    '%C0%AE',
    '..%2F..%2Fetc',
    '%2e%2e',
    '%ED%A0%80',
    '%FF%FE',
    '.',
    '..',
    'a%2Fb',
  ),
  fc.integer({ min: 16_000, max: 70_000 }).map((n) => 'a'.repeat(n)),
);

const rawQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'limit=1&limit=2',
    'offset=99999999999999',
    'offset=-1',
    'limit=1e400',
    'limit=NaN',
    'limit=0x10',
    '__proto__[x]=1',
    'constructor[prototype][x]=1',
    'a[b][c]=1',
    '%zz=1',
    'a=%00',
    'a=%ED%A0%80',
    '&&&',
    '=',
    'passesUpdatedSince=-1',
    'passesUpdatedSince=99999999999999999999999',
    'passesUpdatedSince=abc',
  ),
  fc.tuple(hostileString, hostileString).map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`),
  fc.integer({ min: 1000, max: 12_000 }).map((n) => `x=${'a'.repeat(n)}`),
);

/** Header values fetch can send (Latin-1 without control characters); raw ones go through rawCases. */
function headerSafe(s: string): string {
  return Array.from(s, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff || (code < 0x20 && code !== 0x09) || code === 0x7f ? '?' : c;
  })
    .join('')
    .slice(0, 8000);
}

const hostileHeaderValue = hostileString.map(headerSafe);
const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'if-modified-since': fc.oneof(
        hostileHeaderValue,
        fc.constantFrom('Thu, 01 Jan 1970 00:00:00 GMT', 'Sat, 99 Foo 9999'),
      ),
      accept: fc.constantFrom('text/html', '*/*', 'application/json', 'image/png', headerSafe('\u00ff')),
      'x-forwarded-for': fc.oneof(
        hostileHeaderValue,
        fc.constantFrom('1.2.3.4, 5.6.7.8', '::1', '999.999.1.1'),
      ),
      'x-request-id': hostileHeaderValue,
      'idempotency-key': hostileHeaderValue,
      origin: fc.oneof(hostileHeaderValue, fc.constant('https://evil.example')),
      cookie: fc.oneof(hostileHeaderValue, fc.constant('session=forged; csrf=x')),
      'x-csrf-token': hostileHeaderValue,
    },
    { requiredKeys: [] },
  )
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== '')));

// ---------------------------------------------------------------- OpenAPI → operations

function resolveRef(doc: any, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) {
    const name = s.$ref.split('/').pop() as string;
    s = doc.components?.schemas?.[name] ?? {};
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const merged: Schema = { type: 'object', properties: {}, required: [] };
    for (const part of s.allOf) {
      const r = resolveRef(doc, part);
      Object.assign(merged.properties, r.properties ?? {});
      merged.required.push(...(r.required ?? []));
    }
    return merged;
  }
  if (Array.isArray(s.oneOf) && s.oneOf.length > 0) return resolveRef(doc, s.oneOf[0]);
  if (Array.isArray(s.anyOf) && s.anyOf.length > 0) return resolveRef(doc, s.anyOf[0]);
  return s;
}

function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths ?? {})) {
    for (const method of ['get', 'head', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!op) continue;
      const params: any[] = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const pathParams = Array.from(path.matchAll(/\{([^}]+)\}/g), (m) => m[1]!);
      const content = op.requestBody?.content ?? {};
      const jsonType = Object.keys(content).find((t) => t.includes('json'));
      const bodySchema = jsonType
        ? resolveRef(doc, content[jsonType].schema)
        : Object.keys(content).length
          ? {}
          : null;
      const schemes = (op.security ?? []).flatMap((s: Record<string, unknown>) => Object.keys(s));
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams,
        query: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: resolveRef(doc, p.schema) })),
        headers: params
          .filter((p) => p.in === 'header')
          .map((p) => ({ name: p.name, schema: resolveRef(doc, p.schema) })),
        body: bodySchema,
        security: schemes.includes('platform-admin') ? 'admin' : schemes.length > 0 ? 'tenant' : 'public',
      });
    }
  }
  // Reads first, deletions last: a deleted throwaway resource makes later cases stop early.
  const order = (m: string) => ({ GET: 0, HEAD: 0, POST: 1, PUT: 1, PATCH: 1, DELETE: 2 })[m] ?? 1;
  return ops.sort((a, b) => order(a.method) - order(b.method) || a.path.localeCompare(b.path));
}

// ---------------------------------------------------------------- schema → mostly valid values

interface Pools {
  /** Values for a path parameter by name, or by the collection segment before `{id}`. */
  byName: Map<string, string[]>;
  byCollection: Map<string, string[]>;
  /** Every id we know of, for `format: uuid` body fields. */
  uuids: string[];
  /** A tiny valid PNG, base64. */
  png: string;
}

function validString(schema: Schema, name: string, pools: Pools): fc.Arbitrary<string> {
  if (Array.isArray(schema.enum) && schema.enum.length > 0)
    return fc.constantFrom(...(schema.enum as string[]));
  if (schema.format === 'uuid' || /Id$/.test(name)) {
    return fc.oneof(fc.constantFrom(...pools.uuids), fc.uuid());
  }
  if (schema.format === 'date-time') return fc.constantFrom('2031-06-01T12:00:00Z', '2020-01-01T00:00:00Z');
  if (
    /png|image|icon|logo|strip|thumbnail|background|footer/i.test(name) ||
    /base64 PNG/i.test(schema.description ?? '')
  ) {
    return fc.constant(pools.png);
  }
  if (typeof schema.example === 'string') return fc.constant(schema.example);
  if (/email/i.test(name)) return fc.constantFrom('fuzz@example.com', 'x@y.z');
  if (/password/i.test(name)) return fc.constant('correct horse battery staple');
  if (/color/i.test(name)) return fc.constant('#1E88E5');
  if (/url/i.test(name)) return fc.constantFrom('https://example.com/hook', 'http://127.0.0.1:1/');
  const max = typeof schema.maxLength === 'number' ? Math.min(schema.maxLength, 40) : 40;
  return fc.string({ minLength: Math.min(schema.minLength ?? 1, max), maxLength: max });
}

function validValue(doc: any, raw: Schema, name: string, pools: Pools, depth: number): fc.Arbitrary<Json> {
  const schema = resolveRef(doc, raw);
  if (depth > 6) return fc.constant(null);
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  switch (type) {
    case 'string':
      return validString(schema, name, pools);
    case 'integer':
    case 'number': {
      if (Array.isArray(schema.enum) && schema.enum.length)
        return fc.constantFrom(...(schema.enum as number[]));
      const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
      const max = typeof schema.maximum === 'number' ? schema.maximum : min + 1000;
      return type === 'integer'
        ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
        : fc.double({ min, max, noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const max = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 3, 3);
      return fc.array(fuzzedValue(doc, schema.items ?? {}, name, pools, depth + 1), { maxLength: max });
    }
    case 'object': {
      const props: Record<string, Schema> = schema.properties ?? {};
      const required = new Set<string>(schema.required ?? []);
      const entries = Object.entries(props);
      if (entries.length === 0) {
        // Free-form objects (contact, voucher, serviceAccountKey, images): a few plausible keys.
        const example =
          schema.example && typeof schema.example === 'object'
            ? (schema.example as Record<string, Json>)
            : null;
        return fc
          .tuple(
            fc.constant(example ?? { id: 'c-1', code: 'FUZZ-1' }),
            fc.dictionary(
              fc.oneof(fc.constantFrom('id', 'code', 'firstName', 'title', 'value'), hostileString),
              hostileValue,
              { maxKeys: 3 },
            ),
          )
          .map(([base, extra]) => ({ ...base, ...extra }));
      }
      const shape: Record<string, fc.Arbitrary<Json>> = {};
      for (const [key, sub] of entries) shape[key] = fuzzedValue(doc, sub, key, pools, depth + 1);
      return fc
        .tuple(
          fc.record(shape, { requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)) }),
          fc.option(fc.tuple(hostileString, hostileValue), { freq: 8 }),
        )
        .map(([obj, extra]) => (extra ? { ...obj, [extra[0]]: extra[1] } : obj) as Json);
    }
    default:
      return hostileValue;
  }
}

/** A field's value: usually valid for its schema, sometimes hostile. */
function fuzzedValue(
  doc: any,
  schema: Schema,
  name: string,
  pools: Pools,
  depth: number,
): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 5, arbitrary: validValue(doc, schema, name, pools, depth) },
    { weight: 1, arbitrary: hostileValue },
  );
}

// ---------------------------------------------------------------- operation → requests

type AuthMode = 'valid' | 'none' | 'junk';

const junkAuthorization = fc.oneof(
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer wsk_',
    'Bearer wsk_0000000000000000000000000000',
    'Basic Zm9vOmJhcg==',
    'ApplePass x',
    'ApplePass ',
    'Bearer \u00ff\u00fe',
    'bearer   a b c',
  ),
  hostileHeaderValue.map((v) => `Bearer ${v}`),
  fc.integer({ min: 1000, max: 7000 }).map((n) => `Bearer ${'k'.repeat(n)}`),
);

function requestsFor(
  doc: any,
  op: Operation,
  pools: Pools,
  auth: AuthMode,
  credentials: { tenantKey: string; applePass: string },
): fc.Arbitrary<FuzzRequest> {
  const segments: Record<string, fc.Arbitrary<{ value: string; note: string }>> = {};
  for (const name of op.pathParams) {
    const before = op.path.split(`{${name}}`)[0]!.split('/').filter(Boolean).pop() ?? '';
    const real = pools.byName.get(name) ?? pools.byCollection.get(before) ?? [];
    const realArb = real.length
      ? fc.constantFrom(...real).map((v) => ({ value: encodeSegment(v), note: `${name}=real` }))
      : null;
    const hostile = rawPathSegment.map((v) => ({ value: v, note: `${name}=hostile` }));
    segments[name] = realArb
      ? fc.oneof({ weight: 3, arbitrary: realArb }, { weight: 2, arbitrary: hostile })
      : hostile;
  }
  const asText = (v: Json) => (typeof v === 'string' ? v : JSON.stringify(v));
  const query = fc.tuple(
    fc.tuple(
      ...op.query.map((q) =>
        fc.option(
          fc
            .oneof(validValue(doc, q.schema, q.name, pools, 0), hostileValue)
            .map((v) => `${encodeSegment(q.name)}=${encodeSegment(asText(v))}`),
          { freq: 3 },
        ),
      ),
    ),
    fc.option(rawQuery, { freq: 4 }),
  );
  const canHaveBody = op.method !== 'GET' && op.method !== 'HEAD';
  const body: fc.Arbitrary<{ body?: string; contentType?: string; note: string }> = !canHaveBody
    ? fc.constant({ note: 'no body' })
    : op.body
      ? fc.oneof(
          {
            weight: 6,
            arbitrary: validValue(doc, op.body, 'body', pools, 0).map((v) => ({
              body: JSON.stringify(v),
              contentType: 'application/json',
              note: 'schema body',
            })),
          },
          {
            weight: 1,
            arbitrary: hostileValue.map((v) => ({
              body: JSON.stringify(v),
              contentType: 'application/json',
              note: 'hostile JSON body',
            })),
          },
          {
            weight: 2,
            arbitrary: rawJsonText.map((b) => ({
              body: b,
              contentType: 'application/json',
              note: 'raw JSON text',
            })),
          },
          {
            weight: 1,
            arbitrary: fc
              .tuple(fc.constantFrom(...ODD_CONTENT_TYPES), oddBody)
              .map(([ct, b]) => ({ body: b, contentType: ct, note: `content-type ${ct}` })),
          },
          { weight: 1, arbitrary: fc.constant({ note: 'missing body' }) },
        )
      : fc.oneof(
          { weight: 4, arbitrary: fc.constant({ note: 'no body' }) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(fc.constantFrom('application/json', ...ODD_CONTENT_TYPES), oddBody)
              .map(([ct, b]) => ({ body: b, contentType: ct, note: `unexpected body ${ct}` })),
          },
        );
  const documentedHeaders = fc.tuple(
    ...op.headers
      .filter((h) => h.name.toLowerCase() !== 'authorization')
      .map((h) => fc.option(fc.tuple(fc.constant(h.name.toLowerCase()), hostileHeaderValue), { freq: 2 })),
  );
  const authorization: fc.Arbitrary<string | undefined> =
    auth === 'none'
      ? fc.constant(undefined)
      : auth === 'junk'
        ? junkAuthorization
        : op.security === 'admin'
          ? fc.constant(`Bearer ${ADMIN_TOKEN}`)
          : op.security === 'tenant'
            ? fc.oneof(
                { weight: 9, arbitrary: fc.constant(`Bearer ${credentials.tenantKey}`) },
                { weight: 1, arbitrary: junkAuthorization },
              )
            : op.path.startsWith('/v1/')
              ? fc.oneof(
                  { weight: 3, arbitrary: fc.constant(`ApplePass ${credentials.applePass}`) },
                  { weight: 1, arbitrary: junkAuthorization },
                )
              : fc.option(junkAuthorization, { freq: 3 }).map((v) => v ?? undefined);

  return fc
    .tuple(
      fc.record(segments),
      query,
      body,
      documentedHeaders,
      fc.option(hostileHeaders, { freq: 3 }),
      authorization,
    )
    .map(([segs, [queryParts, extraQuery], b, docHeaders, extraHeaders, authz]) => {
      let path = op.path;
      for (const [name, seg] of Object.entries(segs)) path = path.replace(`{${name}}`, seg.value);
      const q = [
        ...queryParts.filter((x): x is string => x !== null),
        ...(extraQuery ? [extraQuery] : []),
      ].join('&');
      const headers: Record<string, string> = { ...(extraHeaders ?? {}) };
      for (const h of docHeaders) if (h) headers[h[0]] = h[1];
      if (authz !== undefined) headers.authorization = authz;
      if (b.contentType !== undefined) headers['content-type'] = b.contentType;
      const note = [
        ...Object.values(segs).map((s) => s.note),
        b.note,
        q ? 'query' : '',
        extraHeaders ? 'headers' : '',
        `auth=${auth}`,
      ]
        .filter(Boolean)
        .join(', ');
      return { method: op.method, url: path + (q ? `?${q}` : ''), headers, body: b.body, note };
    });
}

// ---------------------------------------------------------------- checking one answer

function describeRequest(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : ` body(${r.body.length})=${JSON.stringify(r.body.slice(0, 300))}`;
  const headers = JSON.stringify(
    Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.slice(0, 120)])),
  );
  return `${r.method} ${r.url.slice(0, 400)}${r.url.length > 400 ? `…(${r.url.length})` : ''} headers=${headers}${body} [${r.note}]`;
}

async function send(
  base: string,
  r: FuzzRequest,
): Promise<
  { status: number; contentType: string; text: string; ms: number } | { error: string; ms: number }
> {
  const started = Date.now();
  try {
    const res = await fetch(base + r.url, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(SLOW_MS * 2),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      text,
      ms: Date.now() - started,
    };
  } catch (err) {
    return { error: (err as Error).message, ms: Date.now() - started };
  }
}

function answerProblem(r: FuzzRequest, status: number, contentType: string, text: string): string | null {
  if (status >= 500) return `answered ${status}`;
  if (status < 400) return null;
  if (text.length === 0) return null; // Apple's protocol answers some 4xx without a body
  if (contentType.includes('text/html')) {
    return (r.headers.accept ?? '').includes('text/html')
      ? null
      : 'answered HTML to a client that did not ask for it';
  }
  if (!contentType.includes('json')) return `4xx with content type ${contentType || 'none'}`;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return '4xx body is not valid JSON';
  }
  const e = body?.error;
  if (typeof e?.code !== 'string' || typeof e?.message !== 'string' || typeof e?.correlationId !== 'string') {
    return '4xx body is not { error: { code, message, correlationId } }';
  }
  if (status === 400 && e.code === 'VALIDATION_FAILED') {
    const fields = e.fields;
    if (!Array.isArray(fields) || fields.length === 0) return 'validation error without fields';
    if (
      fields.some(
        (f: any) => typeof f?.field !== 'string' || f.field === '' || typeof f?.message !== 'string',
      )
    ) {
      return 'validation error with a field entry that names no field';
    }
  }
  return null;
}

// ---------------------------------------------------------------- raw HTTP/1.1 that fetch will not send

const RAW_CASES: [string, string][] = [
  ['control character in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n'],
  ['NUL in the request target', 'GET /api/v1/campaigns/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['raw UTF-8 in the request target', 'GET /api/assets/\u00e9t\u00e9/icon.png HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['unknown HTTP version', 'GET /health HTTP/9.9\r\nHost: x\r\n\r\n'],
  ['garbage request line', 'GARBAGE\r\n\r\n'],
  ['absolute-form target', 'GET http://evil.example/health HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['bare LF line ends', 'GET /health HTTP/1.1\nHost: x\n\n'],
  [
    'Content-Length and Transfer-Encoding',
    'POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'two different Content-Lengths',
    'POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  ],
  ['negative Content-Length', 'POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
  [
    'malformed chunk',
    'POST /pers/v1/urls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  ],
  [
    'Latin-1 bytes in Authorization',
    'GET /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u00ff\u00fe\u00e9\r\n\r\n',
  ],
  [
    'invalid UTF-8 in a JSON body',
    'POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"name":"\u00ff\u00fe\u00c0"}',
  ],
  [
    'body longer than Content-Length',
    'POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}GARBAGE\r\n\r\n',
  ],
  ['very long method', `${'A'.repeat(5000)} /health HTTP/1.1\r\nHost: x\r\n\r\n`],
  ['percent-garbage in the query', 'GET /api/v1/campaigns?limit=%zz&%ED%A0%80=1 HTTP/1.1\r\nHost: x\r\n\r\n'],
];

/** Writes `raw` (Latin-1 bytes) and reads until the server closes or answers; the status, if any. */
function sendRaw(port: number, raw: string): Promise<{ status: number | null; text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : null, text: data, ms: Date.now() - started });
    };
    socket.setTimeout(SLOW_MS, done);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      // One complete answer is enough (Content-Length known and read).
      const head = data.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(data.slice(0, head));
      if (head >= 0 && length && data.length >= head + 4 + Number(length[1])) done();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.write(Buffer.from(raw, 'latin1'));
  });
}

// ---------------------------------------------------------------- the suite

/** 32-bit FNV-1a, to give each route its own seed (adding a route leaves the others' cases alone). */
function routeSeed(seed: number, route: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < route.length; i++) h = Math.imul(h ^ route.charCodeAt(i), 0x01000193);
  return h | 0;
}

describe('fuzz: every documented route survives hostile input (e2e)', () => {
  let t: TestApp;
  let google: FakeGoogle;
  let doc: any;
  let ops: Operation[];
  const tenantA = { id: '', apiKey: '' };
  const tenantB = { id: '', apiKey: '' };
  const anchor = { configId: '', campaignId: '' };
  let pools: Pools;
  let applePass = '';

  /** Every row that belongs to `tenantId`, table by table (md5 of the rows as text). */
  async function tenantRows(tenantId: string): Promise<Record<string, string>> {
    const { rows: tables } = await t.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`,
    );
    const out: Record<string, string> = {};
    for (const { table_name } of tables) {
      const { rows } = await t.db.query<{ n: string; h: string | null }>(
        `SELECT count(*)::text AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM "${table_name}" x WHERE tenant_id = $1`,
        [tenantId],
      );
      out[table_name] = `${rows[0]!.n}:${rows[0]!.h ?? ''}`;
    }
    const { rows } = await t.db.query<{ t: string }>(`SELECT x::text AS t FROM tenants x WHERE id = $1`, [
      tenantId,
    ]);
    out.tenants = rows[0]?.t ?? 'missing';
    return out;
  }

  async function anchorRows(): Promise<string[]> {
    const queries: [string, string][] = [
      ['SELECT x::text AS t FROM wallet_configurations x WHERE id = $1', anchor.configId],
      ['SELECT x::text AS t FROM campaigns x WHERE id = $1', anchor.campaignId],
      ['SELECT x::text AS t FROM passes x WHERE campaign_id = $1 ORDER BY id', anchor.campaignId],
      [
        'SELECT name, sha1 AS t FROM campaign_images x WHERE campaign_id = $1 ORDER BY name',
        anchor.campaignId,
      ],
    ];
    const out: string[] = [];
    for (const [sql, id] of queries)
      out.push(...(await t.db.query<{ t: string }>(sql, [id])).rows.map((r) => r.t));
    return out;
  }

  /** Two equal snapshots in a row: background work started by the setup has finished. */
  async function settled<T>(take: () => Promise<T>): Promise<T> {
    let last = JSON.stringify(await take());
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const next = JSON.stringify(await take());
      if (next === last) return JSON.parse(next) as T;
      last = next;
    }
    return JSON.parse(last) as T;
  }

  /** Ids a tenant can see in a collection (GET <collection> → items[].id). */
  async function discover(collectionPath: string, apiKey: string): Promise<string[]> {
    const res = await t.request('GET', `${collectionPath}?limit=200`, { token: apiKey });
    if (res.status !== 200) return [];
    const items = Array.isArray(res.body) ? res.body : Array.isArray(res.body?.items) ? res.body.items : [];
    return items.map((i: any) => i?.id).filter((id: unknown): id is string => typeof id === 'string');
  }

  beforeAll(async () => {
    google = await startFakeGoogle();
    t = await startTestApp({
      ROLE: 'api',
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      GOOGLE_SAVE_URL: 'https://pay.example.test/gp/v/save',
      GOOGLE_REQUEST_TIMEOUT_MS: '1500',
      // Limits answer 429, which is fine, but would make the run depend on timing.
      APPLE_RATE_LIMIT_PER_DEVICE: '0',
      APPLE_RATE_LIMIT_PER_IP: '0',
      LOGIN_RATE_LIMIT_PER_EMAIL: '0',
      LOGIN_RATE_LIMIT_PER_IP: '0',
      TENANT_RATE_LIMIT_LINK_URLS: '0',
      TENANT_RATE_LIMIT_API: '0',
    });
    Object.assign(tenantA, await t.createTenant('Fuzzed tenant'));
    Object.assign(tenantB, await t.createTenant('Bystander tenant'));

    // A's anchor: never offered to the fuzzer; it must come out unchanged.
    const anchorCfg = await createWalletConfiguration(t, tenantA.apiKey, {
      google: true,
      registerWith: google,
    });
    anchor.configId = anchorCfg.id;
    anchor.campaignId = (await createCampaign(t, tenantA.apiKey, anchorCfg.id)).id;
    await t.request(
      'GET',
      linkPath(
        (
          await makeLinks(t, tenantA.apiKey, [
            { campaignId: anchor.campaignId, platform: 'APPLE', contact: { id: 'anchor' } },
          ])
        )[0]!,
      ),
    );

    // A's throwaway resources: the fuzzer may change or delete them.
    const throwCfg = await createWalletConfiguration(t, tenantA.apiKey, {
      google: true,
      registerWith: google,
    });
    const spareCfg = await createWalletConfiguration(t, tenantA.apiKey, { google: false });
    const throwCampaign = (await createCampaign(t, tenantA.apiKey, throwCfg.id)).id;
    const spareCampaign = (await createCampaign(t, tenantA.apiKey, spareCfg.id)).id;
    const links = await makeLinks(t, tenantA.apiKey, [
      { campaignId: throwCampaign, platform: 'APPLE', contact: { id: 'c-1' }, voucher: { code: 'FUZZ-1' } },
      { campaignId: throwCampaign, platform: 'GOOGLE', contact: { id: 'c-2' }, voucher: { code: 'FUZZ-2' } },
      { campaignId: spareCampaign, platform: 'APPLE', contact: { id: 'c-3' } },
    ]);
    for (const url of links) await t.request('GET', linkPath(url));
    const spareKey = await t.request('POST', '/api/v1/api-keys', {
      token: tenantA.apiKey,
      body: { name: 'spare' },
    });

    // B: a complete tenant the fuzzer may name (its ids) but must never change.
    const cfgB = await createWalletConfiguration(t, tenantB.apiKey, { google: true, registerWith: google });
    const campaignB = (await createCampaign(t, tenantB.apiKey, cfgB.id)).id;
    for (const url of await makeLinks(t, tenantB.apiKey, [
      { campaignId: campaignB, platform: 'APPLE', contact: { id: 'b-1' } },
    ])) {
      await t.request('GET', linkPath(url));
    }

    const passes = await t.db.query<{
      serial_number: string;
      authentication_token: string;
      pass_type_identifier: string | null;
    }>(
      'SELECT serial_number, authentication_token, pass_type_identifier FROM passes WHERE campaign_id = ANY($1::uuid[])',
      [[throwCampaign, spareCampaign]],
    );
    applePass = passes.rows[0]!.authentication_token;
    const passTypes = passes.rows.map((r) => r.pass_type_identifier).filter((p): p is string => p !== null);

    const res = await t.request('GET', '/docs/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
    ops = operationsOf(doc);

    // Real ids by collection, discovered through the API: every collection route the document has.
    const byCollection = new Map<string, string[]>();
    const keyPrefix = tenantA.apiKey.slice(0, 12);
    const anchors = new Set([anchor.configId, anchor.campaignId]);
    for (const op of ops) {
      if (op.method !== 'GET' || op.pathParams.length > 0 || op.security !== 'tenant') continue;
      const collection = op.path.split('/').filter(Boolean).pop()!;
      const mine = (await discover(op.path, tenantA.apiKey)).filter((id) => !anchors.has(id));
      const theirs = await discover(op.path, tenantB.apiKey);
      byCollection.set(collection, [...mine, ...theirs, randomUUID()]);
    }
    // Never offer the fuzzer's own key for revocation.
    const keys = await t.request('GET', '/api/v1/api-keys?limit=200', { token: tenantA.apiKey });
    const ownKeyId = (keys.body.items as any[]).find(
      (k) => keyPrefix.startsWith(k.prefix) || tenantA.apiKey.startsWith(k.prefix),
    )?.id;
    byCollection.set('api-keys', [
      ...(byCollection.get('api-keys') ?? []).filter((id) => id !== ownKeyId),
      spareKey.body.id,
    ]);
    byCollection.set('campaigns', [throwCampaign, spareCampaign, campaignB, randomUUID()]);
    byCollection.set('wallet-configurations', [throwCfg.id, spareCfg.id, cfgB.id, randomUUID()]);

    const freshLinks = await makeLinks(t, tenantA.apiKey, [
      { campaignId: throwCampaign, platform: 'APPLE', contact: { id: 'c-9' } },
      { campaignId: throwCampaign, platform: 'GOOGLE', contact: { id: 'c-1' }, voucher: { code: 'FUZZ-1' } },
    ]);
    const byName = new Map<string, string[]>([
      ['serialNumber', [...passes.rows.map((r) => r.serial_number), 'AAAAAAAAAAAAAAAAAAAAAA']],
      ['passTypeIdentifier', [...new Set(passTypes), 'pass.com.unknown.type']],
      ['deviceLibraryIdentifier', ['fuzzdevice0001', 'a'.repeat(128)]],
      ['campaignId', [throwCampaign, campaignB, randomUUID()]],
      ['jwt', freshLinks.map((u) => linkPath(u).split('/').pop()!)],
      ['file', ['icon.png', 'logo.png', 'constructor.png', 'swagger-ui.css', 'toString']],
      ['updateId', [randomUUID()]],
    ]);
    pools = {
      byName,
      byCollection,
      uuids: [throwCfg.id, spareCfg.id, throwCampaign, spareCampaign, cfgB.id, campaignB],
      png: (await import('./support/fixtures')).makePng(29, 29).toString('base64'),
    };
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await google?.close();
  });

  it('never answers 5xx, never takes 5 s, always names the field, and leaves data alone', async () => {
    process.stdout.write(
      `fuzz: FUZZ_SEED=${SEED} (replay with FUZZ_SEED=${SEED} npx jest --selectProjects e2e --runTestsByPath test/fuzz.e2e-spec.ts)\n`,
    );
    expect(ops.length).toBeGreaterThan(10);
    const failures: Failure[] = [];
    const started = Date.now();
    const deadline = started + TIME_LIMIT_MS;
    let sent = 0;
    let cut = false;

    async function run(route: string, cases: FuzzRequest[], until = deadline): Promise<void> {
      for (const r of cases) {
        if (Date.now() > until) {
          cut = true;
          return;
        }
        const answer = await send(t.url, r);
        sent++;
        if ('error' in answer) {
          failures.push({ route, problem: `no answer: ${answer.error}`, request: r });
          continue;
        }
        if (answer.ms > SLOW_MS)
          failures.push({ route, problem: `took ${answer.ms} ms`, request: r, status: answer.status });
        const problem = answerProblem(r, answer.status, answer.contentType, answer.text);
        if (problem)
          failures.push({
            route,
            problem,
            request: r,
            status: answer.status,
            answer: answer.text.slice(0, 300),
          });
      }
    }

    /** Case 1 of every route, then case 2 of every route, …: a time cut leaves no route unfuzzed. */
    async function rounds(plan: { route: string; cases: FuzzRequest[] }[], until: number): Promise<void> {
      const most = Math.max(0, ...plan.map((p) => p.cases.length));
      for (let i = 0; i < most; i++) {
        for (const p of plan) if (i < p.cases.length) await run(p.route, [p.cases[i]!], until);
      }
    }

    // Phase 1: no credentials (or junk ones): nobody's data may change.
    const everyoneBefore = await settled(async () => ({
      a: await tenantRows(tenantA.id),
      b: await tenantRows(tenantB.id),
    }));
    const unauthenticated = ops.map((op) => {
      const route = `${op.method} ${op.path}`;
      const arb = fc.oneof(
        requestsFor(doc, op, pools, 'none', { tenantKey: '', applePass: 'x' }),
        requestsFor(doc, op, pools, 'junk', { tenantKey: '', applePass: 'x' }),
      );
      // Links and ApplePass tokens are credentials: without them, only forged ones are tried.
      const cases = fc
        .sample(arb, { seed: routeSeed(SEED, `unauth ${route}`), numRuns: UNAUTH_RUNS })
        .filter((r) => !(op.pathParams.includes('jwt') && r.note.includes('jwt=real')));
      return { route, cases };
    });
    await rounds(unauthenticated, started + TIME_LIMIT_MS * 0.25);
    const everyoneAfter = { a: await tenantRows(tenantA.id), b: await tenantRows(tenantB.id) };

    // Phase 2: as tenant A (admin routes with the admin token; Apple routes with a pass's token).
    const bystanderBefore = await settled(() => tenantRows(tenantB.id));
    const anchorBefore = await anchorRows();
    const authenticated = ops.map((op) => {
      const route = `${op.method} ${op.path}`;
      const arb = requestsFor(doc, op, pools, 'valid', { tenantKey: tenantA.apiKey, applePass });
      return {
        route,
        method: op.method,
        cases: fc.sample(arb, { seed: routeSeed(SEED, route), numRuns: RUNS }),
      };
    });
    // Deletions last, so the throwaway resources live through the other routes' cases.
    await rounds(
      authenticated.filter((p) => p.method !== 'DELETE'),
      deadline - TIME_LIMIT_MS * 0.1,
    );
    await rounds(
      authenticated.filter((p) => p.method === 'DELETE'),
      deadline,
    );
    // A few undocumented operational routes.
    await run('operations', [
      { method: 'GET', url: '/docs/assets/constructor', headers: {}, note: 'prototype name' },
      { method: 'GET', url: '/docs/assets/__proto__', headers: {}, note: 'prototype name' },
      { method: 'GET', url: '/docs/assets/%00', headers: {}, note: 'NUL' },
      { method: 'GET', url: '/docs/assets/..%2Fpackage.json', headers: {}, note: 'traversal' },
      { method: 'GET', url: '/metrics?x=%00', headers: {}, note: 'query NUL' },
      { method: 'GET', url: `/nowhere/${'%ED%A0%80'}`, headers: {}, note: 'unknown route' },
    ]);

    // Raw HTTP that no fetch client sends: the answer must still be 4xx in the error shape.
    const port = Number(new URL(t.url).port);
    for (const [name, raw] of RAW_CASES) {
      const answer = await sendRaw(port, raw);
      sent++;
      const request: FuzzRequest = {
        method: 'RAW',
        url: JSON.stringify(raw.slice(0, 200)),
        headers: {},
        note: name,
      };
      if (answer.ms > SLOW_MS) failures.push({ route: 'raw', problem: `took ${answer.ms} ms`, request });
      if (answer.status !== null) {
        const split = answer.text.indexOf('\r\n\r\n');
        const contentType = /content-type: ([^\r]*)/i.exec(answer.text.slice(0, split))?.[1] ?? '';
        const problem = answerProblem(request, answer.status, contentType, answer.text.slice(split + 4));
        if (problem)
          failures.push({
            route: 'raw',
            problem,
            request,
            status: answer.status,
            answer: answer.text.slice(0, 300),
          });
      }
    }

    const health = await t.request('GET', '/health');
    const bystanderAfter = await tenantRows(tenantB.id);
    const anchorAfter = await anchorRows();
    const stillWorks = await t.request('GET', '/api/v1/campaigns', { token: tenantA.apiKey });

    process.stdout.write(
      `fuzz: ${sent} requests over ${ops.length} documented routes${cut ? ` (stopped at the ${TIME_LIMIT_MS} ms limit)` : ''}, ${failures.length} failures, seed ${SEED}\n`,
    );
    // One example per route, problem and status: the classes of failure, not every instance.
    const distinct = new Map<string, Failure>();
    for (const f of failures) {
      const k = `${f.route} ${f.problem.replace(/\d+ ms/, 'slow')} ${f.status ?? ''}`;
      if (!distinct.has(k)) distinct.set(k, f);
    }
    const report = [...distinct.values()]
      .slice(0, 60)
      .map(
        (f) =>
          `- ${f.route}: ${f.problem}${f.status ? ` [${f.status}]` : ''}\n    ${describeRequest(f.request)}${f.answer ? `\n    ← ${f.answer}` : ''}`,
      )
      .join('\n');
    expect({ seed: SEED, failures: failures.length, report }).toEqual({
      seed: SEED,
      failures: 0,
      report: '',
    });
    expect({ status: health.status, body: health.body?.status }).toEqual({ status: 200, body: 'ok' });
    expect(everyoneAfter).toEqual(everyoneBefore);
    expect(bystanderAfter).toEqual(bystanderBefore);
    expect(anchorAfter).toEqual(anchorBefore);
    expect(stillWorks.status).toBe(200);
  }, 300_000);
});
