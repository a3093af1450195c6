import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** An API error as the service reports it: `{ error: { code, message, fields?, correlationId } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Array<{ field: string; message: string }> = [],
  ) {
    super(message);
  }

  /** The message for one field (`images.logo`, `apple.p12Password`, …), if the service named it. */
  fieldMessage(prefix: string): string | undefined {
    return this.fields.find((f) => f.field === prefix || f.field.startsWith(`${prefix}.`))?.message;
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** For routes whose OpenAPI entry names the CSRF header (the middleware sends it on every write anyway). */
export function csrfHeader(): { 'X-CSRF-Token': string } {
  return { 'X-CSRF-Token': csrfToken ?? '' };
}

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const session: Middleware = {
  onRequest({ request }) {
    if (csrfToken && !SAFE_METHODS.has(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

/** The typed client: paths, parameters and bodies come from the service's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(session);

async function toApiError(response: Response, body: unknown): Promise<ApiError> {
  const err = (body as { error?: { code?: string; message?: string; fields?: ApiError['fields'] } } | null)
    ?.error;
  if (response.status === 401) onUnauthorized();
  return new ApiError(
    response.status,
    err?.code ?? `HTTP_${response.status}`,
    err?.message ?? `The service answered ${response.status} ${response.statusText}`.trim(),
    err?.fields ?? [],
  );
}

/** The data of a typed call, or an ApiError. */
export async function unwrap<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok) throw await toApiError(response, error);
  return data as D;
}

/**
 * For answers the OpenAPI document does not describe (yet): the same session, CSRF and error
 * handling as the typed client, with the answer's type given by the caller.
 */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrfToken && !SAFE_METHODS.has(method)) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  if (text.length > 0 && (response.headers.get('content-type') ?? '').includes('json')) {
    parsed = JSON.parse(text);
  }
  if (!response.ok) throw await toApiError(response, parsed);
  return parsed as T;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
