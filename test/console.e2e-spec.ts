import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startFakeGoogle, FakeGoogle } from './support/fake-google';
import { createCampaign, createWalletConfiguration } from './support/fixtures';
import { createTenantWithAdmin, TEST_PASSWORD, userWithRole } from './support/session';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The marketer console in real headless Chromium against the real app (which serves the
 * built console from dist/console: `npm test` builds it first). One browser for the file.
 * Screenshots go to CONSOLE_SCREENSHOTS_DIR (docs/screenshots when refreshing the README's).
 */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS_DIR ?? join(tmpdir(), 'console-screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface Browsing {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

describe('console (browser e2e)', () => {
  let t: TestApp;
  let google: FakeGoogle;
  let browser: Browser;
  let tenant: Awaited<ReturnType<typeof createTenantWithAdmin>>;
  let configId: string;
  const open: Browsing[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    google = await startFakeGoogle();
    t = await startTestApp({
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      GOOGLE_REQUEST_TIMEOUT_MS: '800',
    });
    tenant = await createTenantWithAdmin(t, 'Acme Coffee');
    configId = (await createWalletConfiguration(t, tenant.apiKey, { google: true, registerWith: google })).id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.context.close();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await google?.close();
  });

  async function browse(width = 1280, height = 900): Promise<Browsing> {
    const context = await browser.newContext({ viewport: { width, height }, baseURL: t.url });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const b = { context, page, errors };
    open.push(b);
    return b;
  }

  async function signInAs(b: Browsing, email: string, password = TEST_PASSWORD): Promise<void> {
    await b.page.goto('/console/');
    await b.page.getByLabel('Email').fill(email);
    await b.page.getByLabel('Password').fill(password);
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await b.page.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  /** axe-core's serious and critical violations on the page as it is now. */
  async function axe(page: Page): Promise<Array<{ id: string; nodes: string[] }>> {
    await page.evaluate(AXE_SOURCE);
    return page.evaluate(`(async () => {
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    })()`);
  }

  /** Nothing wider than the viewport (no sideways scrolling at phone width). */
  async function overflow(page: Page): Promise<number> {
    return page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  it('serves the console at /console with the SPA fallback, cached hashed assets and a small first load', async () => {
    const index = await t.request('GET', '/console');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const deep = await t.request('GET', '/console/campaigns/5b0e4a52-0000-4000-8000-000000000000');
    expect(deep.status).toBe(200);
    expect(deep.text).toBe(index.text);

    const scripts = [...index.text.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+\.js)"/g)].map(
      (m) => m[1]!,
    );
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const src of scripts) {
      const asset = await t.request('GET', src);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toContain('javascript');
      expect(asset.headers.get('cache-control')).toContain('immutable');
      gzipped += gzipSync(asset.raw, { level: 9 }).length;
    }
    expect(gzipped).toBeLessThan(300 * 1024);

    const missing = await t.request('GET', '/console/assets/nope-123.js');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const traversal = await t.request('GET', '/console/assets/..%2f..%2fpackage.json');
    expect(traversal.text).not.toContain('"devDependencies"');
  });

  it('signs in, refuses a wrong password, signs out', async () => {
    const b = await browse();
    await b.page.goto('/console/');
    await b.page.getByLabel('Email').fill(tenant.email);
    await b.page.getByLabel('Password').fill('not the password');
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await expect(b.page.getByRole('alert').textContent()).resolves.toMatch(/./);
    // The browser itself logs the refused request; nothing else may appear.
    expect(b.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    b.errors.length = 0;

    await b.page.getByLabel('Password').fill(TEST_PASSWORD);
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await b.page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    expect(await b.page.getByText(tenant.email).count()).toBe(1);
    // A reload keeps the session (cookie), and the server knows who it is.
    await b.page.reload();
    await b.page.getByRole('heading', { name: 'Campaigns' }).waitFor();

    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await b.page.reload();
    await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
    const cookies = await b.context.cookies();
    const me = await t.request('GET', '/api/v1/auth/me', {
      headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
    });
    expect(me.status).toBe(401);
    expect(b.errors).toEqual([]);
  });

  it('a viewer sees a read-only console, and the API refuses their changes', async () => {
    const viewer = await userWithRole(t, tenant.apiKey, 'viewer');
    const campaign = await createCampaign(t, tenant.apiKey, configId, { name: 'Viewed campaign' });
    const b = await browse();
    await signInAs(b, viewer.email);
    await b.page.getByRole('link', { name: 'Viewed campaign' }).waitFor();
    expect(await b.page.getByRole('link', { name: 'New campaign' }).count()).toBe(0);
    expect(await b.page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await b.page.getByRole('link', { name: 'Wallet configurations' }).click();
    await b.page.getByText('Test configuration').waitFor();
    expect(await b.page.getByRole('button', { name: 'Replace credentials' }).count()).toBe(0);
    expect(await b.page.getByRole('button', { name: 'New configuration' }).count()).toBe(0);

    const patch = await viewer.request('PATCH', `/api/v1/campaigns/${campaign.id}`, {
      body: { name: 'Renamed' },
    });
    expect(patch.status).toBe(403);
    const create = await viewer.request('POST', '/api/v1/campaigns', {
      body: {
        name: 'x',
        walletConfigurationId: configId,
        passStyle: 'coupon',
        template: { organizationName: 'a', description: 'b' },
      },
    });
    expect(create.status).toBe(403);
    expect(b.errors).toEqual([]);
  });

  it('is usable at phone width (375 px), and axe finds no serious issue', async () => {
    const b = await browse(375, 812);
    await b.page.goto('/console/');
    await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await axe(b.page)).toEqual([]);
    await shot(b.page, 'sign-in');
    await signInAs(b, tenant.email);
    for (const [path, heading, name] of [
      ['/console/', 'Campaigns', 'phone-campaigns'],
      ['/console/configurations', 'Wallet configurations', null],
      ['/console/users', 'Users', 'users'],
      ['/console/api-keys', 'API keys', null],
      ['/console/account', 'Account', null],
    ] as const) {
      await b.page.goto(path);
      await b.page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await settle(b.page);
      expect({ path, overflow: await overflow(b.page) }).toEqual({ path, overflow: 0 });
      expect({ path, violations: await axe(b.page) }).toEqual({ path, violations: [] });
      if (name) await shot(b.page, name);
    }
    expect(b.errors).toEqual([]);
  });
});

/** Lets the page's first requests answer and React render them. */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.waitForTimeout(300);
}
