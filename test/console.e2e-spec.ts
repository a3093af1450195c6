import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import forge from 'node-forge';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startFakeGoogle, FakeGoogle } from './support/fake-google';
import {
  createCampaign,
  createWalletConfiguration,
  linkPath,
  makeLinks,
  makePng,
  sharedPki,
} from './support/fixtures';
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
      // The pass previews show the marketer's own colours as phones will (the designer warns
      // about weak contrast instead); everything else must pass.
      const result = await window.axe.run(
        { exclude: [['.apple-pass'], ['.google-pass']] },
        { resultTypes: ['violations'] },
      );
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

  it('creates a wallet configuration from a .p12 file and shows what the certificate says', async () => {
    const pass = sharedPki().issuePassCertificate({ teamIdentifier: 'CONSOLE123' });
    const p12 = pkcs12(pass.certificatePem, pass.privateKeyPem, [sharedPki().wwdr.certPem], 'p12 secret');
    const b = await browse();
    await signInAs(b, tenant.email);
    await b.page.getByRole('link', { name: 'Wallet configurations' }).click();
    await b.page.getByRole('button', { name: 'New configuration' }).click();
    await b.page.getByLabel('Name').fill('Console upload');
    await b.page
      .getByLabel('Pass Type ID certificate (.p12)')
      .setInputFiles({ name: 'pass.p12', mimeType: 'application/x-pkcs12', buffer: p12 });
    await b.page.getByLabel('.p12 password').fill('wrong password');
    await b.page.getByRole('button', { name: 'Create configuration' }).click();
    await expect(b.page.getByRole('alert').first().textContent()).resolves.toMatch(/./);
    b.errors.length = 0; // the refused upload (400) is logged by the browser itself

    await b.page.getByLabel('.p12 password').fill('p12 secret');
    await b.page.getByRole('button', { name: 'Create configuration' }).click();
    const card = b.page.locator('li.card', { hasText: 'Console upload' });
    await card.waitFor();
    const text = await card.textContent();
    expect(text).toContain(pass.passTypeIdentifier);
    expect(text).toContain('CONSOLE123');
    expect(text).toMatch(/\d+ days left/);
    const listed = await t.request('GET', '/api/v1/wallet-configurations?limit=200', {
      token: tenant.apiKey,
    });
    const created = listed.body.items.find((c: any) => c.name === 'Console upload');
    expect(created.apple.passTypeIdentifier).toBe(pass.passTypeIdentifier);
    expect(await axe(b.page)).toEqual([]);
    await shot(b.page, 'configurations');
    expect(b.errors).toEqual([]);
  });

  it('designs a campaign: the Apple and Google previews follow the design and the sample data as you type', async () => {
    const editor = await userWithRole(t, tenant.apiKey, 'editor');
    const b = await browse();
    await signInAs(b, editor.email);
    await b.page.getByRole('link', { name: 'New campaign' }).click();
    await b.page.getByLabel('Wallet configuration').selectOption({ label: 'Test configuration' });
    await b.page.getByLabel('Campaign name').fill('Autumn coffee');
    await b.page.getByLabel('Organization name').fill('Acme Coffee');
    await b.page.getByLabel('Description', { exact: true }).fill('Acme Coffee autumn voucher');
    await b.page.getByLabel('Logo text').fill('Acme Coffee');

    const apple = b.page.getByTestId('apple-pass');
    const googlePass = b.page.getByTestId('google-pass');
    await expect(waitForText(apple, '10% off everything')).resolves.toBe(true);
    await expect(waitForText(googlePass, '10% off everything')).resolves.toBe(true);

    await b.page.getByLabel('Primary fields 1: value').fill('Hello {{contact.firstName|there}}');
    await expect(waitForText(apple, 'Hello Ada')).resolves.toBe(true);
    await b.page.getByLabel('contact.firstName').fill('Grace');
    await expect(waitForText(apple, 'Hello Grace')).resolves.toBe(true);
    await expect(waitForText(googlePass, 'Hello Grace')).resolves.toBe(true);
    await b.page.getByLabel('contact.firstName').fill('');
    await expect(waitForText(apple, 'Hello there')).resolves.toBe(true);

    // Token picker with a default
    await b.page.getByRole('button', { name: 'Add to auxiliary fields' }).click();
    await b.page.getByLabel('Auxiliary fields 1: label').fill('Code');
    await b.page.getByRole('button', { name: 'Insert a token into Auxiliary fields 1' }).click();
    await b.page.getByLabel('Token', { exact: true }).selectOption('voucher.code');
    await b.page.getByLabel('Default when empty').fill('NO-CODE');
    await b.page.getByRole('button', { name: 'Insert', exact: true }).click();
    expect(await b.page.getByLabel('Auxiliary fields 1: value').inputValue()).toBe(
      '{{voucher.code|NO-CODE}}',
    );
    await expect(waitForText(apple, 'SUMMER-001')).resolves.toBe(true);

    // Reorder: the secondary field moves above … and back (the buttons are keyboard buttons)
    await b.page.getByRole('button', { name: 'Add to secondary fields' }).click();
    await b.page.getByLabel('Secondary fields 2: value').fill('second');
    await b.page.getByRole('button', { name: 'Move Secondary fields 2 up' }).click();
    expect(await b.page.getByLabel('Secondary fields 1: value').inputValue()).toBe('second');
    await b.page.getByRole('button', { name: 'Remove Secondary fields 1' }).click();
    expect(await b.page.getByLabel('Secondary fields 1: value').inputValue()).toContain(
      '{{contact.firstName',
    );

    // Colours reach the rendered pass
    await b.page.getByLabel('Background colour').fill('#6d4c41');
    await expect(
      waitFor(
        async () =>
          (await apple.evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor)) ===
          'rgb(109, 76, 65)',
      ),
    ).resolves.toBe(true);

    // Back of the Apple pass
    await b.page.getByRole('button', { name: 'Back', exact: true }).click();
    await expect(
      waitForText(b.page.getByTestId('apple-pass-back'), 'One voucher per customer.'),
    ).resolves.toBe(true);
    await b.page.getByRole('button', { name: 'Front', exact: true }).click();

    // Images: a non-PNG is refused in the browser; a broken PNG by the service, whose message is shown
    await b.page.getByLabel('Logo', { exact: true }).setInputFiles({
      name: 'logo.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('not a png at all'),
    });
    await expect(waitForText(b.page.getByTestId('drop-logo'), 'is not a PNG image')).resolves.toBe(true);
    const broken = Buffer.concat([makePng(160, 50).subarray(0, 33), Buffer.from('garbage after the header')]);
    await b.page
      .getByLabel('Strip', { exact: true })
      .setInputFiles({ name: 'strip.png', mimeType: 'image/png', buffer: broken });
    await b.page
      .getByLabel('Logo', { exact: true })
      .setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: makePng(480, 150) });
    await expect(waitForText(b.page.getByTestId('drop-logo'), '480×150 px')).resolves.toBe(true);
    await b.page.getByRole('button', { name: 'Create campaign' }).click();
    await expect(
      waitFor(async () => (await b.page.getByTestId('drop-strip').getByRole('alert').count()) === 1),
    ).resolves.toBe(true);
    // The browser only checks the PNG signature: this message is the service's
    expect(await b.page.getByTestId('drop-strip').getByRole('alert').textContent()).toMatch(/PNG/);
    b.errors.length = 0; // the refused save (400) is logged by the browser itself

    await b.page.getByRole('button', { name: 'Remove strip' }).click();
    expect(await axe(b.page)).toEqual([]);
    await shot(b.page, 'designer');
    await b.page.getByRole('button', { name: 'Create campaign' }).click();
    await b.page.getByRole('heading', { name: 'Autumn coffee' }).waitFor();
    const list = await t.request('GET', '/api/v1/campaigns?limit=200', { token: tenant.apiKey });
    const saved = list.body.items.find((c: any) => c.name === 'Autumn coffee');
    expect(saved.template.primaryFields[0].value).toBe('Hello {{contact.firstName|there}}');
    expect(saved.template.backgroundColor).toBe('#6D4C41');
    expect(saved.template.auxiliaryFields[0]).toMatchObject({
      label: 'Code',
      value: '{{voucher.code|NO-CODE}}',
    });
    expect(Object.keys(saved.images)).toContain('logo');
    expect(b.errors).toEqual([]);
  });

  it('campaign page: charts after passes were issued, a test link as QR code, pass search and void, safe publishing', async () => {
    const campaign = await createCampaign(t, tenant.apiKey, configId, { name: 'Charted campaign' });
    const links = await makeLinks(t, tenant.apiKey, [
      { campaignId: campaign.id, platform: 'APPLE', contact: { id: 'c-1' }, voucher: { code: 'CHART-1' } },
      { campaignId: campaign.id, platform: 'APPLE', contact: { id: 'c-2' }, voucher: { code: 'CHART-2' } },
      { campaignId: campaign.id, platform: 'GOOGLE', contact: { id: 'c-3' }, voucher: { code: 'CHART-3' } },
    ]);
    for (const link of links) {
      const res = await t.request('GET', linkPath(link));
      expect([200, 302]).toContain(res.status);
    }
    const b = await browse();
    await signInAs(b, tenant.email);
    await b.page.goto(`/console/campaigns/${campaign.id}`);
    await b.page.getByRole('heading', { name: 'Charted campaign' }).waitFor();
    const charts = b.page.getByTestId('charts');
    await expect(waitForText(charts, 'Apple: 2')).resolves.toBe(true);
    expect(await charts.textContent()).toContain('Google: 1');
    expect(await charts.locator('svg rect').count()).toBeGreaterThanOrEqual(2);

    // Try it: a test link, its QR code, the .pkpass behind it
    await b.page.getByRole('button', { name: 'Get test link' }).click();
    const testLink = b.page.getByTestId('test-link');
    await testLink.waitFor();
    expect(await testLink.getByRole('img', { name: 'QR code of the test link' }).count()).toBe(1);
    const url = await testLink.getByRole('link').first().getAttribute('href');
    const pkpass = await t.request('GET', linkPath(url!));
    expect(pkpass.status).toBe(200);
    expect(pkpass.headers.get('content-type')).toBe('application/vnd.apple.pkpass');
    expect(await axe(b.page)).toEqual([]);
    await shot(b.page, 'campaign');

    // Pass search, detail, void
    await b.page.getByLabel('Find a pass').fill('CHART-2');
    await b.page.getByRole('button', { name: 'Search' }).click();
    await expect(waitForText(b.page.locator('table').last(), 'CHART-2')).resolves.toBe(true);
    await b.page.locator('table').last().getByRole('button').first().click();
    const detail = b.page.getByRole('region', { name: /^Pass / });
    await expect(waitForText(detail, 'CHART-2')).resolves.toBe(true);
    b.page.once('dialog', (d) => void d.accept());
    await detail.getByRole('button', { name: 'Void pass' }).click();
    await expect(waitForText(detail, 'voided')).resolves.toBe(true);

    // Safe publishing: the impact first (the 3 passes and the test link's), then the change
    await b.page.getByRole('link', { name: 'Edit design' }).click();
    await b.page.getByLabel('Primary fields 1: value').fill('Now 20% off');
    await b.page.getByRole('button', { name: 'Save changes' }).click();
    const impact = b.page.getByTestId('impact');
    await impact.waitFor();
    expect(await impact.textContent()).toMatch(/4\s+issued passes/);
    await b.page.getByRole('button', { name: /^Publish to/ }).click();
    await b.page.getByRole('heading', { name: 'Publishing the change' }).waitFor();
    const after = await t.request('GET', `/api/v1/campaigns/${campaign.id}`, { token: tenant.apiKey });
    expect(after.body.template.primaryFields[0].value).toBe('Now 20% off');
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
    const campaign = await createCampaign(t, tenant.apiKey, configId, { name: 'Phone campaign' });
    for (const [path, heading, name] of [
      ['/console/', 'Campaigns', 'phone-campaigns'],
      [`/console/campaigns/${campaign.id}`, 'Phone campaign', 'phone-campaign'],
      [`/console/campaigns/${campaign.id}/design`, 'Design: Phone campaign', 'phone-designer'],
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

/** A PKCS#12 file with the certificate, its key and the chain, as Keychain Access exports it. */
function pkcs12(certPem: string, keyPem: string, chainPems: string[], password: string): Buffer {
  const key = forge.pki.privateKeyFromPem(keyPem);
  const certs = [certPem, ...chainPems].map((p) => forge.pki.certificateFromPem(p));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

async function waitForText(
  locator: { textContent(): Promise<string | null> },
  text: string,
): Promise<boolean> {
  return waitFor(async () => ((await locator.textContent().catch(() => null)) ?? '').includes(text));
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
