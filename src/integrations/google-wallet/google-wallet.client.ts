import { Gaxios, GaxiosError, type GaxiosOptionsPrepared } from 'gaxios';
import { JWT } from 'google-auth-library';

/** The four Google Wallet pass types wallet-service issues (one per Apple pass style). */
export type GoogleWalletType = 'offer' | 'loyalty' | 'eventTicket' | 'generic';

export interface GoogleServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

export interface GoogleWalletEndpoints {
  /** e.g. `https://walletobjects.googleapis.com/walletobjects/v1` */
  apiBaseUrl: string;
  /** Where service-account assertions are exchanged for access tokens (`GOOGLE_OAUTH_TOKEN_URL`). */
  tokenUrl: string;
  /** Applies to each HTTP exchange on its own: the token fetch and the REST call. */
  timeoutMs: number;
}

export interface GoogleWalletClientOptions extends GoogleWalletEndpoints {
  serviceAccountKey: GoogleServiceAccountKey;
}

/** A class or object resource as the REST API takes and returns it. */
export type GoogleWalletResource = { id: string } & Record<string, unknown>;

export const GOOGLE_WALLET_SCOPE = 'https://www.googleapis.com/auth/wallet_object.issuer';

/** google-auth-library sends every service-account token request here, whatever the key says. */
const HARD_CODED_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export class GoogleWalletError extends Error {
  override readonly name = 'GoogleWalletError';
  /** HTTP status when Google (or the token endpoint) answered; absent for network errors and timeouts. */
  readonly status?: number;
  /** Google's reason (`duplicate`, `invalid_grant`, …) or the network error code (`TimeoutError`, `ECONNREFUSED`). */
  readonly reason?: string;
  /** True when trying again later may succeed: no answer, timeouts, 408, 429 and 5xx. */
  readonly retryable: boolean;
  /** Google's `Retry-After` (429, 503), in milliseconds, when it sent one. */
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    details: { status?: number; reason?: string; retryable: boolean; retryAfterMs?: number },
  ) {
    super(message);
    this.status = details.status;
    this.reason = details.reason;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT';

/**
 * Google Wallet REST client for one service account. Keep one instance per credential (see
 * `GoogleWalletClientFactory`): the instance holds the access token and reuses it until it expires.
 */
export class GoogleWalletClient {
  private readonly jwt: JWT;
  private readonly apiBaseUrl: string;
  private readonly tokenUrl: string;
  private readonly timeoutMs: number;
  private readonly secrets: string[];

  constructor(opts: GoogleWalletClientOptions) {
    this.apiBaseUrl = opts.apiBaseUrl.replace(/\/+$/, '');
    this.tokenUrl = new URL(opts.tokenUrl).href;
    this.timeoutMs = opts.timeoutMs;
    this.secrets = secretFragments(opts.serviceAccountKey.private_key);

    const transporter = new Gaxios({
      // Native fetch: gaxios would otherwise load node-fetch, an ES module.
      fetchImplementation: fetch,
      // Defaults reach the token request too, which google-auth-library sends with no timeout and
      // with three retries on POST; a caller's job queue retries instead, so an outage answers fast.
      timeout: opts.timeoutMs,
      retryConfig: { retry: 0 },
    });
    if (this.tokenUrl !== HARD_CODED_TOKEN_URL) {
      const target = this.tokenUrl;
      transporter.interceptors.request.add({
        resolved: async (request: GaxiosOptionsPrepared) => {
          if (request.url.href === HARD_CODED_TOKEN_URL) request.url = new URL(target);
          return request;
        },
      });
    }

    this.jwt = new JWT({
      email: opts.serviceAccountKey.client_email,
      key: opts.serviceAccountKey.private_key,
      keyId: opts.serviceAccountKey.private_key_id,
      scopes: [GOOGLE_WALLET_SCOPE],
      transporter,
    });
  }

  async insertClass(type: GoogleWalletType, resource: GoogleWalletResource): Promise<GoogleWalletResource> {
    return this.call('POST', `${type}Class`, undefined, resource);
  }

  /** The class, or null when Google has none with this id. */
  async getClass(type: GoogleWalletType, id: string): Promise<GoogleWalletResource | null> {
    return this.getOrNull(`${type}Class`, id);
  }

  /** Merges top-level fields; arrays given replace the stored ones wholesale. */
  async patchClass(
    type: GoogleWalletType,
    id: string,
    partial: Record<string, unknown>,
  ): Promise<GoogleWalletResource> {
    return this.call('PATCH', `${type}Class`, id, partial);
  }

  /**
   * Inserts the class, or when its id exists patches the top-level fields that differ from what
   * Google holds (nothing is sent when nothing differs).
   */
  async upsertClass(type: GoogleWalletType, resource: GoogleWalletResource): Promise<'created' | 'updated'> {
    try {
      await this.insertClass(type, resource);
      return 'created';
    } catch (err) {
      if (!(err instanceof GoogleWalletError) || err.status !== 409) throw err;
    }
    const existing = await this.getClass(type, resource.id);
    if (!existing) {
      throw new GoogleWalletError(
        `Google Wallet ${type}Class ${resource.id} was reported as existing but could not be read`,
        { status: 404, reason: 'notFound', retryable: true },
      );
    }
    const changes = changedFields(existing, resource);
    if (Object.keys(changes).length > 0) await this.patchClass(type, resource.id, changes);
    return 'updated';
  }

  /** Inserts the object; an object that already exists is left as it is and reported as `exists`. */
  async insertObject(type: GoogleWalletType, resource: GoogleWalletResource): Promise<'created' | 'exists'> {
    try {
      await this.call('POST', `${type}Object`, undefined, resource);
      return 'created';
    } catch (err) {
      if (err instanceof GoogleWalletError && err.status === 409) return 'exists';
      throw err;
    }
  }

  async patchObject(
    type: GoogleWalletType,
    id: string,
    partial: Record<string, unknown>,
  ): Promise<GoogleWalletResource> {
    return this.call('PATCH', `${type}Object`, id, partial);
  }

  /** The object, or null when Google has none with this id. */
  async getObject(type: GoogleWalletType, id: string): Promise<GoogleWalletResource | null> {
    return this.getOrNull(`${type}Object`, id);
  }

  private async getOrNull(segment: string, id: string): Promise<GoogleWalletResource | null> {
    try {
      return await this.call('GET', segment, id);
    } catch (err) {
      if (err instanceof GoogleWalletError && err.status === 404) return null;
      throw err;
    }
  }

  private async call(
    method: HttpMethod,
    segment: string,
    id?: string,
    data?: unknown,
  ): Promise<GoogleWalletResource> {
    const url =
      id === undefined
        ? `${this.apiBaseUrl}/${segment}`
        : `${this.apiBaseUrl}/${segment}/${encodeURIComponent(id)}`;
    const operation = id === undefined ? `${method} ${segment}` : `${method} ${segment}/${id}`;
    try {
      const res = await this.jwt.request<GoogleWalletResource>({
        url,
        method,
        data,
        timeout: this.timeoutMs,
        retry: false,
        responseType: 'json',
      });
      return res.data;
    } catch (err) {
      throw this.toWalletError(err, operation);
    }
  }

  private toWalletError(err: unknown, operation: string): GoogleWalletError {
    if (!(err instanceof GaxiosError)) {
      // Raised before anything was sent, e.g. while signing the assertion with a malformed key.
      const detail = err instanceof Error ? err.message : String(err);
      return new GoogleWalletError(this.redact(`Google Wallet ${operation} failed: ${detail}`), {
        reason: 'clientError',
        retryable: false,
      });
    }
    const isTokenRequest = String(err.config?.url) === this.tokenUrl;
    const what = isTokenRequest ? `access token request for ${operation}` : operation;
    const response = err.response;
    if (!response) {
      const reason = networkErrorCode(err);
      const detail =
        reason === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : `no answer (${reason ?? err.message})`;
      return new GoogleWalletError(this.redact(`Google Wallet ${what} failed: ${detail}`), {
        reason,
        retryable: true,
      });
    }
    const status = response.status;
    const { reason, message } = describeErrorBody(response.data);
    const retryable = status === 408 || status === 429 || status >= 500;
    const text = `Google Wallet ${what} failed: ${status}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`;
    return new GoogleWalletError(this.redact(text), {
      status,
      reason,
      retryable,
      retryAfterMs: retryAfterMs(response.headers),
    });
  }

  /** Error text can echo what was sent; make sure no part of the private key ever leaves in it. */
  private redact(text: string): string {
    let out = text.replace(/-----BEGIN[^-]*-----[\s\S]*?(-----END[^-]*-----|$)/g, '[redacted key]');
    for (const fragment of this.secrets) out = out.split(fragment).join('[redacted]');
    return out;
  }
}

/** Lines of the PEM body, long enough that finding one in a message means key material leaked. */
function secretFragments(pem: string): string[] {
  return pem
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(headers: unknown, now = Date.now()): number | undefined {
  let value: unknown;
  if (headers instanceof Headers) value = headers.get('retry-after');
  else if (isObject(headers)) value = headers['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function networkErrorCode(err: GaxiosError): string | undefined {
  if (typeof err.code === 'string') return err.code;
  // fetch rejects with `TypeError('fetch failed')` whose own cause carries the system error code.
  // Checked by shape, not `instanceof`: the errors may come from another realm (Jest's sandbox).
  const cause: unknown = err.cause;
  if (!isObject(cause)) return undefined;
  const inner = cause.cause;
  if (isObject(inner) && typeof inner.code === 'string') return inner.code;
  if (typeof cause.code === 'string') return cause.code;
  return typeof cause.name === 'string' ? cause.name : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * REST errors are `{ error: { code, message, errors: [{ reason }] } }`; the OAuth token endpoint
 * answers `{ error: 'invalid_grant', error_description }`.
 */
function describeErrorBody(data: unknown): { reason?: string; message?: string } {
  if (!isRecord(data)) return {};
  const error = data.error;
  if (typeof error === 'string') {
    return {
      reason: error,
      message: typeof data.error_description === 'string' ? data.error_description : undefined,
    };
  }
  if (!isRecord(error)) return {};
  const first: unknown = Array.isArray(error.errors) ? error.errors[0] : undefined;
  const reason =
    isRecord(first) && typeof first.reason === 'string'
      ? first.reason
      : typeof error.status === 'string'
        ? error.status
        : undefined;
  return { reason, message: typeof error.message === 'string' ? error.message : undefined };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function changedFields(
  existing: Record<string, unknown>,
  wanted: Record<string, unknown>,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (key === 'id') continue;
    if (canonicalJson(existing[key]) !== canonicalJson(value)) changes[key] = value;
  }
  return changes;
}

/** JSON with object keys sorted, so that field order in Google's answer does not count as a change. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
