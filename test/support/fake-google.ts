import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode, verify, type JwtPayload } from 'jsonwebtoken';

/**
 * A local stand-in for Google's OAuth token endpoint and the Wallet Objects REST API, speaking
 * their real protocols so the real google-auth-library and our client run against it.
 *
 * - `POST /token`: JWT-bearer grant; the assertion is verified (RS256) against the public key
 *   registered for its `iss`, its scope must include `wallet_object.issuer`.
 * - `/walletobjects/v1/{type}` (`offerClass`, `genericObject`, …): insert / get / patch / update,
 *   only with a bearer token this fake issued.
 */
export interface FakeGoogle {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `<baseUrl>/token` — use as `GOOGLE_OAUTH_TOKEN_URL`. */
  tokenUrl: string;
  /** `<baseUrl>/walletobjects/v1` — use as `GOOGLE_WALLET_API_URL`. */
  apiUrl: string;
  registerServiceAccount(clientEmail: string, publicKeyPem: string): void;
  /** Stored classes and objects by id, as Google would return them (with `kind`). */
  classes: Map<string, StoredResource>;
  objects: Map<string, StoredResource>;
  /** Every request received, in order (token requests included). */
  requests: FakeGoogleRequest[];
  /** Payloads of the token assertions that passed verification. */
  verifiedAssertions: JwtPayload[];
  /** Access tokens handed out, with the service account each belongs to. */
  issuedTokens: Map<string, { clientEmail: string; expiresAt: number }>;
  /** While on, every request (token included) answers 503. */
  setOutage(on: boolean): void;
  /**
   * While on, every Wallet REST request answers 429 with `Retry-After: <retryAfterSeconds>`
   * (the token endpoint keeps working).
   */
  setRateLimited(on: boolean, retryAfterSeconds?: number): void;
  /** Successful PATCHes per object id (answered 200). */
  objectPatches: Map<string, number>;
  /** Hold every request this long before answering. */
  setDelayMs(ms: number): void;
  /** The next request for this exact path (e.g. `/walletobjects/v1/offerObject`) answers `status`. */
  failNext(path: string, status: number): void;
  close(): Promise<void>;
}

export interface FakeGoogleRequest {
  method: string;
  path: string;
  body: unknown;
  /** When it arrived (Date.now()). */
  at: number;
  /** The status it was answered with (set when answered). */
  status?: number;
}

export type StoredResource = { id: string; kind: string } & Record<string, unknown>;

const API_PREFIX = '/walletobjects/v1/';
const WALLET_SCOPE = 'https://www.googleapis.com/auth/wallet_object.issuer';
const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
const ID_PATTERN = /^\d+\.[A-Za-z0-9._-]+$/;
const RESOURCE_TYPE = /^(offer|loyalty|eventTicket|generic|giftCard|flight|transit)(Class|Object)$/;
const BARCODE_TYPES = new Set([
  'QR_CODE',
  'AZTEC',
  'PDF_417',
  'CODE_128',
  'CODE_39',
  'CODABAR',
  'DATA_MATRIX',
  'EAN_8',
  'EAN_13',
  'ITF_14',
  'UPC_A',
  'TEXT_ONLY',
]);
const MAX_BODY_BYTES = 1024 * 1024;

/** Fields Google insists on, per resource type (Wallet REST reference). */
const REQUIRED_FIELDS: Record<string, string[]> = {
  offerClass: ['issuerName', 'reviewStatus', 'provider', 'title', 'redemptionChannel'],
  loyaltyClass: ['issuerName', 'reviewStatus', 'programName', 'programLogo'],
  eventTicketClass: ['issuerName', 'reviewStatus', 'eventName'],
  giftCardClass: ['issuerName', 'reviewStatus'],
  genericClass: [],
  offerObject: ['classId', 'state'],
  loyaltyObject: ['classId', 'state'],
  eventTicketObject: ['classId', 'state'],
  giftCardObject: ['classId', 'state'],
  genericObject: ['classId', 'cardTitle', 'header'],
};

const REASON_BY_STATUS: Record<number, string> = {
  400: 'invalid',
  401: 'authError',
  403: 'forbidden',
  404: 'notFound',
  409: 'duplicate',
  429: 'rateLimitExceeded',
  500: 'backendError',
  502: 'backendError',
  503: 'backendError',
};

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason = REASON_BY_STATUS[status] ?? 'error',
  ) {
    super(message);
  }
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  const publicKeys = new Map<string, string>();
  const classes = new Map<string, StoredResource>();
  const objects = new Map<string, StoredResource>();
  const requests: FakeGoogleRequest[] = [];
  const verifiedAssertions: JwtPayload[] = [];
  const issuedTokens = new Map<string, { clientEmail: string; expiresAt: number }>();
  const failures = new Map<string, number[]>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  let outage = false;
  let rateLimited: number | null = null;
  let delayMs = 0;
  const objectPatches = new Map<string, number>();

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      sendRestError(res, 500, `Fake Google failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      sendRestError(res, 400, 'Request body too large or unreadable.');
      return;
    }
    const isToken = path === '/token';
    const body = isToken ? Object.fromEntries(new URLSearchParams(raw)) : parseJson(raw);
    const entry: FakeGoogleRequest = { method: req.method ?? 'GET', path, body, at: Date.now() };
    requests.push(entry);
    res.once('finish', () => {
      entry.status = res.statusCode;
    });

    if (delayMs > 0) {
      const proceed = await wait(delayMs, res);
      if (!proceed) return;
    }
    const injected = failures.get(path)?.shift();
    if (outage || injected !== undefined) {
      const status = injected ?? 503;
      if (isToken)
        sendJson(res, status, { error: 'internal_failure', error_description: 'Backend unavailable.' });
      else
        sendRestError(
          res,
          status,
          status === 503 ? 'The service is currently unavailable.' : 'Injected failure.',
        );
      return;
    }

    if (rateLimited !== null && !isToken) {
      if (!res.headersSent) res.setHeader('retry-after', String(rateLimited));
      sendRestError(res, 429, 'Quota exceeded for quota metric requests per second.');
      return;
    }

    try {
      if (isToken) {
        if (req.method !== 'POST') throw new HttpFailure(405, 'Method not allowed.');
        sendJson(res, 200, issueToken(body as Record<string, string>));
        return;
      }
      if (!path.startsWith(API_PREFIX)) throw new HttpFailure(404, `No route for ${path}.`);
      authenticate(req);
      const [type, ...rest] = path.slice(API_PREFIX.length).split('/');
      const id = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined;
      sendJson(res, 200, handleRest(req.method ?? 'GET', type ?? '', id, body, raw));
    } catch (err) {
      if (!(err instanceof HttpFailure)) throw err;
      if (isToken) {
        sendJson(res, err.status, { error: err.reason, error_description: err.message });
      } else {
        sendRestError(res, err.status, err.message, err.reason);
      }
    }
  }

  function wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        res.off('close', onClose);
        resolve(true);
      }, ms);
      const onClose = () => {
        clearTimeout(timer);
        pendingTimers.delete(timer);
        resolve(false);
      };
      pendingTimers.add(timer);
      res.once('close', onClose);
    });
  }

  function issueToken(form: Record<string, string>): Record<string, unknown> {
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      throw new HttpFailure(400, 'Invalid grant_type: ' + (form.grant_type ?? ''), 'unsupported_grant_type');
    }
    const assertion = form.assertion;
    if (!assertion) throw new HttpFailure(400, 'Missing required parameter: assertion', 'invalid_request');
    const unverified = decode(assertion, { json: true });
    const iss = unverified?.iss;
    const publicKey = iss ? publicKeys.get(iss) : undefined;
    if (!iss || !publicKey) throw new HttpFailure(401, 'The OAuth client was not found.', 'invalid_client');
    let claims: JwtPayload;
    try {
      const verified = verify(assertion, publicKey, { algorithms: ['RS256'] });
      if (typeof verified === 'string') throw new Error('payload is not JSON');
      claims = verified;
    } catch (err) {
      const expired = err instanceof Error && err.name === 'TokenExpiredError';
      throw expired
        ? new HttpFailure(
            400,
            'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.',
            'invalid_grant',
          )
        : new HttpFailure(401, 'Invalid JWT Signature.', 'invalid_grant');
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((a) => a === GOOGLE_TOKEN_AUDIENCE || a === tokenUrl)) {
      throw new HttpFailure(400, 'Invalid JWT: Failed audience check.', 'invalid_grant');
    }
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp - claims.iat > 3600) {
      throw new HttpFailure(
        400,
        'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.',
        'invalid_grant',
      );
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(WALLET_SCOPE)) {
      throw new HttpFailure(400, 'Invalid OAuth scope or ID token audience provided.', 'invalid_scope');
    }
    verifiedAssertions.push(claims);
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    issuedTokens.set(accessToken, { clientEmail: iss, expiresAt: Date.now() + 3600_000 });
    return { access_token: accessToken, expires_in: 3600, token_type: 'Bearer' };
  }

  function authenticate(req: IncomingMessage): void {
    const match = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    const token = match?.[1] ? issuedTokens.get(match[1]) : undefined;
    if (!token || token.expiresAt < Date.now()) {
      throw new HttpFailure(
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
  }

  function handleRest(
    method: string,
    type: string,
    id: string | undefined,
    body: unknown,
    raw: string,
  ): StoredResource {
    const match = RESOURCE_TYPE.exec(type);
    if (!match) throw new HttpFailure(404, `No resource type ${type}.`);
    const store = match[2] === 'Class' ? classes : objects;
    const kind = `walletobjects#${type}`;

    if (method === 'POST' && id === undefined) {
      const resource = requireResource(body, raw);
      const newId = resource.id;
      if (typeof newId !== 'string' || !ID_PATTERN.test(newId)) {
        throw new HttpFailure(400, `Invalid resource ID: ${String(newId)}`);
      }
      if (store.has(newId)) throw new HttpFailure(409, `Resource already exists: ${newId}`);
      const stored = { ...resource, id: newId, kind };
      validate(type, stored);
      store.set(newId, stored);
      return stored;
    }
    if (id === undefined) throw new HttpFailure(404, `Method ${method} needs a resource id.`);
    const existing = store.get(id);
    if (!existing || existing.kind !== kind) throw new HttpFailure(404, `Resource not found: ${id}`);

    switch (method) {
      case 'GET':
        return existing;
      case 'PATCH':
      case 'PUT': {
        const resource = requireResource(body, raw);
        if (resource.id !== undefined && resource.id !== id) {
          throw new HttpFailure(
            400,
            `Resource ID in the body (${JSON.stringify(resource.id)}) does not match ${id}.`,
          );
        }
        const next = method === 'PATCH' ? { ...existing, ...resource, id, kind } : { ...resource, id, kind };
        validate(type, next);
        store.set(id, next);
        if (method === 'PATCH' && store === objects) objectPatches.set(id, (objectPatches.get(id) ?? 0) + 1);
        return next;
      }
      default:
        throw new HttpFailure(405, `Method ${method} not allowed.`);
    }
  }

  function validate(type: string, resource: StoredResource): void {
    for (const field of REQUIRED_FIELDS[type] ?? []) {
      if (resource[field] === undefined || resource[field] === null || resource[field] === '') {
        throw new HttpFailure(400, `${field} is required for ${type}.`, 'required');
      }
    }
    const color = resource.hexBackgroundColor;
    if (
      color !== undefined &&
      (typeof color !== 'string' || !/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(color))
    ) {
      throw new HttpFailure(400, `Invalid hexBackgroundColor: ${JSON.stringify(color)}`);
    }
    const barcode = resource.barcode as { type?: unknown } | undefined;
    if (barcode !== undefined && !BARCODE_TYPES.has(String(barcode.type))) {
      throw new HttpFailure(400, `Invalid barcode type: ${String(barcode.type)}`);
    }
    if (type.endsWith('Object')) {
      const classId = resource.classId;
      if (typeof classId !== 'string' || !ID_PATTERN.test(classId)) {
        throw new HttpFailure(400, `Invalid class ID: ${String(classId)}`);
      }
      const cls = classes.get(classId);
      const classKind = `walletobjects#${type.replace(/Object$/, 'Class')}`;
      if (!cls || cls.kind !== classKind)
        throw new HttpFailure(404, `Class not found: ${classId}`, 'classNotFound');
      if (cls.reviewStatus === 'DRAFT') {
        throw new HttpFailure(400, `Class ${classId} is in DRAFT and cannot be used to create objects.`);
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const tokenUrl = `${baseUrl}/token`;

  return {
    baseUrl,
    tokenUrl,
    apiUrl: `${baseUrl}/walletobjects/v1`,
    classes,
    objects,
    requests,
    verifiedAssertions,
    issuedTokens,
    registerServiceAccount(clientEmail, publicKeyPem) {
      publicKeys.set(clientEmail, publicKeyPem);
    },
    objectPatches,
    setOutage(on) {
      outage = on;
    },
    setRateLimited(on, retryAfterSeconds = 1) {
      rateLimited = on ? retryAfterSeconds : null;
    },
    setDelayMs(ms) {
      delayMs = ms;
    },
    failNext(path, status) {
      const queue = failures.get(path) ?? [];
      queue.push(status);
      failures.set(path, queue);
    },
    async close() {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function requireResource(body: unknown, raw: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpFailure(
      400,
      raw === '' ? 'Request body is required.' : 'Invalid JSON payload received.',
      'parseError',
    );
  }
  return body as Record<string, unknown>;
}

function parseJson(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendRestError(
  res: ServerResponse,
  status: number,
  message: string,
  reason = REASON_BY_STATUS[status],
): void {
  sendJson(res, status, {
    error: {
      code: status,
      message,
      errors: [{ domain: 'global', reason: reason ?? 'error', message }],
      status: STATUS_TEXT[status] ?? 'UNKNOWN',
    },
  });
}
