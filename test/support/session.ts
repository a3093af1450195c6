import { ADMIN_TOKEN, HttpResult, RequestOptions, TestApp } from './test-app';

/** A signed-in console user: requests carry the session cookie and, when changing state, the CSRF token. */
export interface Session {
  cookie: string;
  csrfToken: string;
  login: HttpResult;
  request<T = any>(
    method: string,
    path: string,
    opts?: RequestOptions & { csrf?: string | null },
  ): Promise<HttpResult<T>>;
}

export function cookieFrom(res: HttpResult): string {
  const setCookie = res.headers.get('set-cookie');
  if (!setCookie) throw new Error(`no Set-Cookie in ${res.status} ${res.text}`);
  return setCookie.split(';')[0]!;
}

export async function signIn(t: TestApp, email: string, password: string): Promise<Session> {
  const login = await t.request('POST', '/api/v1/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${login.text}`);
  const cookie = cookieFrom(login);
  const csrfToken = login.body.csrfToken as string;
  return {
    cookie,
    csrfToken,
    login,
    request(method, path, opts = {}) {
      const headers: Record<string, string> = { cookie, ...(opts.headers ?? {}) };
      const csrf = opts.csrf === undefined ? csrfToken : opts.csrf;
      if (csrf !== null && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrf;
      return t.request(method, path, { ...opts, headers });
    },
  };
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}@example.test`;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/** A tenant created with a first admin user; returns its API key and the admin's credentials. */
export async function createTenantWithAdmin(
  t: TestApp,
  name = 'Console tenant',
): Promise<{ id: string; apiKey: string; email: string; password: string }> {
  const email = uniqueEmail('admin');
  const res = await t.request('POST', '/api/v1/tenants', {
    token: ADMIN_TOKEN,
    body: { name, admin: { email, password: TEST_PASSWORD } },
  });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.text}`);
  return { id: res.body.id, apiKey: res.body.apiKey, email, password: TEST_PASSWORD };
}

/** Adds a user with the given role through the admin API and signs them in. */
export async function userWithRole(
  t: TestApp,
  apiKey: string,
  role: 'admin' | 'editor' | 'viewer',
): Promise<Session & { userId: string; email: string }> {
  const email = uniqueEmail(role);
  const res = await t.request('POST', '/api/v1/users', {
    token: apiKey,
    body: { email, password: TEST_PASSWORD, role },
  });
  if (res.status !== 201) throw new Error(`user creation failed: ${res.status} ${res.text}`);
  const s = await signIn(t, email, TEST_PASSWORD);
  return Object.assign(s, { userId: res.body.id as string, email });
}
