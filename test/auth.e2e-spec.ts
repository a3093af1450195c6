import { createHash, randomUUID } from 'node:crypto';
import {
  cookieFrom,
  createTenantWithAdmin,
  signIn,
  TEST_PASSWORD,
  uniqueEmail,
  userWithRole,
} from './support/session';
import { ADMIN_TOKEN, startTestApp, TestApp } from './support/test-app';

describe('console users, sessions, roles and CSRF (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_RATE_LIMIT_PER_EMAIL: '0', LOGIN_RATE_LIMIT_PER_IP: '0' });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('first admin and sign-in', () => {
    it('creates the first admin with the tenant and signs in with an HttpOnly SameSite cookie', async () => {
      const tenant = await createTenantWithAdmin(t, 'Acme console');
      const res = await t.request('POST', '/api/v1/auth/login', {
        body: { email: tenant.email.toUpperCase(), password: TEST_PASSWORD },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        user: { id: expect.any(String), email: tenant.email, role: 'admin' },
        tenant: { id: tenant.id, name: 'Acme console' },
        csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      const setCookie = res.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^wallet_session=[A-Za-z0-9_-]{43}; /);
      expect(setCookie).toContain('HttpOnly');
      expect(setCookie).toContain('SameSite=Strict');
      expect(setCookie).toContain('Path=/');
      expect(setCookie).not.toContain('Secure'); // http PUBLIC_BASE_URL outside production

      // Only the hash of the cookie value is stored; the password only as an scrypt hash.
      const value = cookieFrom(res).split('=')[1]!;
      const rows = await t.db.query('SELECT id_hash FROM user_sessions WHERE user_id = $1', [
        res.body.user.id,
      ]);
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0].id_hash.toString('base64url')).not.toBe(value);
      const user = await t.db.query('SELECT password_hash FROM users WHERE id = $1', [res.body.user.id]);
      expect(user.rows[0].password_hash).toMatch(/^scrypt\$/);
      expect(user.rows[0].password_hash).not.toContain(TEST_PASSWORD);

      const me = await t.request('GET', '/api/v1/auth/me', { headers: { cookie: cookieFrom(res) } });
      expect(me.status).toBe(200);
      expect(me.body).toEqual(res.body);
      // The cookie works on the tenant API like an API key.
      const campaigns = await t.request('GET', '/api/v1/campaigns', { headers: { cookie: cookieFrom(res) } });
      expect(campaigns.status).toBe(200);
      expect(campaigns.body.total).toBe(0);
      expect(t.logs.text()).not.toContain(value);
      expect(t.logs.text()).not.toContain(TEST_PASSWORD);
    });

    it('answers the same 401 for an unknown email and a wrong password', async () => {
      const tenant = await createTenantWithAdmin(t);
      const wrong = await t.request('POST', '/api/v1/auth/login', {
        body: { email: tenant.email, password: 'not the password' },
      });
      const unknown = await t.request('POST', '/api/v1/auth/login', {
        body: { email: uniqueEmail('nobody'), password: 'not the password' },
      });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
      expect(unknown.body.error.message).toBe(wrong.body.error.message);
      expect(wrong.headers.get('set-cookie')).toBeNull();
      const bad = await t.request('POST', '/api/v1/auth/login', { body: { email: 5 } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toEqual(
        expect.arrayContaining(['email', 'password']),
      );
    });

    it('validates the first admin and creates nothing when the email is taken', async () => {
      const weak = await t.request('POST', '/api/v1/tenants', {
        token: ADMIN_TOKEN,
        body: { name: 'Weak', admin: { email: uniqueEmail(), password: 'short' } },
      });
      expect(weak.status).toBe(400);
      expect(weak.body.error.fields[0].field).toBe('admin.password');
      const notEmail = await t.request('POST', '/api/v1/tenants', {
        token: ADMIN_TOKEN,
        body: { name: 'Bad', admin: { email: 'nope', password: TEST_PASSWORD } },
      });
      expect(notEmail.status).toBe(400);
      expect(notEmail.body.error.fields[0].field).toBe('admin.email');

      const first = await createTenantWithAdmin(t, 'First');
      const before = await t.db.query('SELECT count(*)::int AS n FROM tenants');
      const dup = await t.request('POST', '/api/v1/tenants', {
        token: ADMIN_TOKEN,
        body: { name: 'Second', admin: { email: first.email.toUpperCase(), password: TEST_PASSWORD } },
      });
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('USER_EMAIL_TAKEN');
      const after = await t.db.query('SELECT count(*)::int AS n FROM tenants');
      expect(after.rows[0].n).toBe(before.rows[0].n);
    });
  });

  describe('sessions', () => {
    it('signs out: the session ends and the cookie is cleared', async () => {
      const tenant = await createTenantWithAdmin(t);
      const s = await signIn(t, tenant.email, tenant.password);
      const out = await s.request('POST', '/api/v1/auth/logout');
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/^wallet_session=; .*Max-Age=0/);
      expect((await s.request('GET', '/api/v1/auth/me')).status).toBe(401);
      expect((await s.request('GET', '/api/v1/campaigns')).status).toBe(401);
      // Signing out again, or without a session, is harmless.
      expect((await s.request('POST', '/api/v1/auth/logout')).status).toBe(204);
      expect((await t.request('POST', '/api/v1/auth/logout')).status).toBe(204);
    });

    it('ends idle sessions and sessions past their absolute lifetime', async () => {
      const tenant = await createTenantWithAdmin(t);
      const idle = await signIn(t, tenant.email, tenant.password);
      const old = await signIn(t, tenant.email, tenant.password);
      const live = await signIn(t, tenant.email, tenant.password);
      const hash = (cookie: string) => createHash('sha256').update(cookie.split('=')[1]!).digest();
      // 720 minutes idle is the default limit.
      await t.db.query(
        `UPDATE user_sessions SET last_seen_at = now() - interval '721 minutes' WHERE id_hash = $1`,
        [hash(idle.cookie)],
      );
      await t.db.query(
        `UPDATE user_sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1`,
        [hash(old.cookie)],
      );
      expect((await idle.request('GET', '/api/v1/auth/me')).status).toBe(401);
      expect((await old.request('GET', '/api/v1/campaigns')).status).toBe(401);
      expect((await live.request('GET', '/api/v1/auth/me')).status).toBe(200);
      const garbage = await t.request('GET', '/api/v1/campaigns', {
        headers: { cookie: 'wallet_session=x' },
      });
      expect(garbage.status).toBe(401);
      const forged = await t.request('GET', '/api/v1/campaigns', {
        headers: { cookie: `wallet_session=${'A'.repeat(43)}` },
      });
      expect(forged.status).toBe(401);
    });

    it('changes the password and ends the other sessions only', async () => {
      const tenant = await createTenantWithAdmin(t);
      const here = await signIn(t, tenant.email, tenant.password);
      const elsewhere = await signIn(t, tenant.email, tenant.password);
      const wrong = await here.request('POST', '/api/v1/auth/password', {
        body: { currentPassword: 'not it at all', newPassword: 'a brand new pass phrase' },
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.fields[0].field).toBe('currentPassword');
      const short = await here.request('POST', '/api/v1/auth/password', {
        body: { currentPassword: tenant.password, newPassword: 'short' },
      });
      expect(short.status).toBe(400);
      expect(short.body.error.fields[0].field).toBe('newPassword');

      const ok = await here.request('POST', '/api/v1/auth/password', {
        body: { currentPassword: tenant.password, newPassword: 'a brand new pass phrase' },
      });
      expect(ok.status).toBe(204);
      expect((await here.request('GET', '/api/v1/auth/me')).status).toBe(200);
      expect((await elsewhere.request('GET', '/api/v1/auth/me')).status).toBe(401);
      const oldPw = await t.request('POST', '/api/v1/auth/login', {
        body: { email: tenant.email, password: tenant.password },
      });
      expect(oldPw.status).toBe(401);
      await signIn(t, tenant.email, 'a brand new pass phrase');
      // With an API key there is no user whose password could change.
      const viaKey = await t.request('POST', '/api/v1/auth/password', {
        token: tenant.apiKey,
        body: { currentPassword: 'x', newPassword: 'a brand new pass phrase' },
      });
      expect(viaKey.status).toBe(401);
    });
  });

  describe('CSRF', () => {
    it('refuses cookie writes without the right token or from another origin; API keys are unaffected', async () => {
      const tenant = await createTenantWithAdmin(t);
      const s = await signIn(t, tenant.email, tenant.password);
      const body = { name: 'from the console' };
      const missing = await s.request('POST', '/api/v1/api-keys', { body, csrf: null });
      expect(missing.status).toBe(403);
      expect(missing.body.error.code).toBe('CSRF_REJECTED');
      const wrong = await s.request('POST', '/api/v1/api-keys', { body, csrf: 'A'.repeat(43) });
      expect(wrong.status).toBe(403);
      expect(wrong.body.error.code).toBe('CSRF_REJECTED');
      const otherOrigin = await s.request('POST', '/api/v1/api-keys', {
        body,
        headers: { origin: 'https://evil.example' },
      });
      expect(otherOrigin.status).toBe(403);
      expect(otherOrigin.body.error.code).toBe('CSRF_REJECTED');
      const nullOrigin = await s.request('POST', '/api/v1/api-keys', { body, headers: { origin: 'null' } });
      expect(nullOrigin.status).toBe(403);
      // Another session's token is not this session's token.
      const other = await signIn(t, tenant.email, tenant.password);
      expect((await s.request('POST', '/api/v1/api-keys', { body, csrf: other.csrfToken })).status).toBe(403);
      const keys = await t.request('GET', '/api/v1/api-keys', { token: tenant.apiKey });
      expect(keys.body.total).toBe(1);

      const publicOrigin = new URL(t.config.publicBaseUrl).origin;
      const ok = await s.request('POST', '/api/v1/api-keys', { body, headers: { origin: publicOrigin } });
      expect(ok.status).toBe(201);
      expect(ok.body.apiKey).toMatch(/^wsk_/);
      expect(ok.body.name).toBe('from the console');
      const sameHost = await s.request('POST', '/api/v1/api-keys', { body, headers: { origin: t.url } });
      expect(sameHost.status).toBe(201);
      // Reads need no token.
      expect((await s.request('GET', '/api/v1/api-keys', { csrf: null })).status).toBe(200);
      // API keys need none either.
      expect((await t.request('POST', '/api/v1/api-keys', { token: tenant.apiKey, body })).status).toBe(201);
    });
  });

  describe('roles', () => {
    it('viewers read but change nothing, on every mutating route family', async () => {
      const tenant = await createTenantWithAdmin(t);
      const viewer = await userWithRole(t, tenant.apiKey, 'viewer');
      const id = randomUUID();
      const routes: [string, string, unknown?][] = [
        ['POST', '/api/v1/campaigns', {}],
        ['PATCH', `/api/v1/campaigns/${id}`, {}],
        ['DELETE', `/api/v1/campaigns/${id}`],
        ['PATCH', `/api/v1/campaigns/${id}/passes/S1`, { voucher: {} }],
        ['POST', `/api/v1/campaigns/${id}/passes/S1/void`],
        ['POST', '/api/v1/wallet-configurations', { name: 'x' }],
        ['PATCH', `/api/v1/wallet-configurations/${id}`, {}],
        ['DELETE', `/api/v1/wallet-configurations/${id}`],
        ['POST', '/api/v1/users', { email: uniqueEmail(), password: TEST_PASSWORD, role: 'admin' }],
        ['PATCH', `/api/v1/users/${viewer.userId}`, { role: 'admin' }],
        ['DELETE', `/api/v1/users/${viewer.userId}`],
        ['POST', '/api/v1/api-keys', { name: 'x' }],
        ['DELETE', `/api/v1/api-keys/${id}`],
        ['POST', '/pers/v1/urls', { requests: [] }],
      ];
      for (const [method, path, body] of routes) {
        const res = await viewer.request(method, path, { body });
        expect({ method, path, status: res.status, code: res.body?.error?.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'FORBIDDEN_ROLE',
        });
      }
      for (const path of ['/api/v1/campaigns', '/api/v1/wallet-configurations', '/api/v1/auth/me']) {
        expect((await viewer.request('GET', path)).status).toBe(200);
      }
      expect((await viewer.request('GET', '/api/v1/users')).status).toBe(403);
      expect((await viewer.request('GET', '/api/v1/api-keys')).status).toBe(403);
      // Nothing changed: the viewer is still a viewer.
      const me = await viewer.request('GET', '/api/v1/auth/me');
      expect(me.body.user.role).toBe('viewer');
    });

    it('editors change campaigns but not configurations, users or keys', async () => {
      const tenant = await createTenantWithAdmin(t);
      const editor = await userWithRole(t, tenant.apiKey, 'editor');
      const created = await editor.request('POST', '/api/v1/campaigns', { body: {} });
      expect(created.status).toBe(400); // past the role check, into validation
      const id = randomUUID();
      expect((await editor.request('PATCH', `/api/v1/campaigns/${id}`, { body: {} })).status).not.toBe(403);
      for (const [method, path, body] of [
        ['POST', '/api/v1/wallet-configurations', { name: 'x' }],
        ['POST', '/api/v1/users', { email: uniqueEmail(), password: TEST_PASSWORD, role: 'viewer' }],
        ['POST', '/api/v1/api-keys', { name: 'x' }],
        ['GET', '/api/v1/users', undefined],
      ] as const) {
        const res = await editor.request(method, path, { body });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN_ROLE');
      }
    });

    it('admins manage users; a role change applies to live sessions; the last admin stays', async () => {
      const tenant = await createTenantWithAdmin(t);
      const admin = await signIn(t, tenant.email, tenant.password);
      const email = uniqueEmail('colleague');
      const created = await admin.request('POST', '/api/v1/users', {
        body: { email, password: TEST_PASSWORD, role: 'viewer' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        email,
        role: 'viewer',
        createdAt: expect.any(String),
      });
      expect(created.text).not.toContain(TEST_PASSWORD);
      const dup = await admin.request('POST', '/api/v1/users', {
        body: { email: email.toUpperCase(), password: TEST_PASSWORD, role: 'viewer' },
      });
      expect(dup.status).toBe(409);
      const badRole = await admin.request('POST', '/api/v1/users', {
        body: { email: uniqueEmail(), password: TEST_PASSWORD, role: 'owner' },
      });
      expect(badRole.status).toBe(400);
      expect(badRole.body.error.fields[0].field).toBe('role');

      const colleague = await signIn(t, email, TEST_PASSWORD);
      expect((await colleague.request('POST', '/api/v1/campaigns', { body: {} })).status).toBe(403);
      const promoted = await admin.request('PATCH', `/api/v1/users/${created.body.id}`, {
        body: { role: 'editor' },
      });
      expect(promoted.status).toBe(200);
      expect(promoted.body.role).toBe('editor');
      expect((await colleague.request('POST', '/api/v1/campaigns', { body: {} })).status).toBe(400);

      const list = await admin.request('GET', '/api/v1/users');
      expect(list.body.items.map((u: { email: string }) => u.email).sort()).toEqual(
        [email, tenant.email].sort(),
      );

      const adminId = admin.login.body.user.id as string;
      const demote = await admin.request('PATCH', `/api/v1/users/${adminId}`, { body: { role: 'editor' } });
      expect(demote.status).toBe(409);
      expect(demote.body.error.code).toBe('LAST_ADMIN');
      const removeSelf = await admin.request('DELETE', `/api/v1/users/${adminId}`);
      expect(removeSelf.status).toBe(409);

      // With a second admin, the first can step down.
      await admin.request('PATCH', `/api/v1/users/${created.body.id}`, { body: { role: 'admin' } });
      expect(
        (await admin.request('PATCH', `/api/v1/users/${adminId}`, { body: { role: 'viewer' } })).status,
      ).toBe(200);
      expect((await admin.request('GET', '/api/v1/users')).status).toBe(403);

      // A removed user's sessions end with them.
      expect((await colleague.request('DELETE', `/api/v1/users/${adminId}`)).status).toBe(204);
      expect((await admin.request('GET', '/api/v1/auth/me')).status).toBe(401);
    });

    it("never shows or changes another tenant's users", async () => {
      const a = await createTenantWithAdmin(t, 'A');
      const b = await createTenantWithAdmin(t, 'B');
      const bAdmin = await signIn(t, b.email, b.password);
      const bId = bAdmin.login.body.user.id as string;
      const aAdmin = await signIn(t, a.email, a.password);
      expect(
        (await aAdmin.request('PATCH', `/api/v1/users/${bId}`, { body: { role: 'viewer' } })).status,
      ).toBe(404);
      expect((await aAdmin.request('DELETE', `/api/v1/users/${bId}`)).status).toBe(404);
      const list = await aAdmin.request('GET', '/api/v1/users');
      expect(list.body.items.map((u: { id: string }) => u.id)).not.toContain(bId);
    });
  });
});

describe('sign-in rate limit (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_RATE_LIMIT_PER_EMAIL: '3', LOGIN_RATE_LIMIT_PER_IP: '8' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 with Retry-After per email, then per client IP', async () => {
    const tenant = await createTenantWithAdmin(t);
    for (let i = 0; i < 3; i++) {
      const res = await t.request('POST', '/api/v1/auth/login', {
        body: { email: tenant.email, password: 'guess ' + i },
      });
      expect(res.status).toBe(401);
    }
    const limited = await t.request('POST', '/api/v1/auth/login', {
      body: { email: tenant.email, password: tenant.password },
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    // Other emails from the same address go on until the per-IP limit (8 in all).
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.request('POST', '/api/v1/auth/login', {
        body: { email: uniqueEmail(), password: 'x' },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  });
});
