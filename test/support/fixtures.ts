import { encodePng } from '../../src/common/png';
import { createServiceAccountKey, createTestPki, PassCertificate, TestPki } from './certs';
import { TestApp } from './test-app';

let pki: TestPki | undefined;
/** One test PKI per test file (process); cleaned up at exit. */
export function sharedPki(): TestPki {
  if (!pki) {
    pki = createTestPki();
    const p = pki;
    process.once('exit', () => p.cleanup());
  }
  return pki;
}

export interface WalletFixture {
  id: string;
  pass: PassCertificate;
  serviceAccount: ReturnType<typeof createServiceAccountKey>;
  issuerId: string;
}

/** A PNG of the given size; `noisy` makes it incompressible (realistic artwork sizes). */
export function makePng(width = 29, height = 29, noisy = false): Buffer {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = noisy ? (Math.random() * 256) | 0 : 30;
    rgba[i + 1] = noisy ? (Math.random() * 256) | 0 : 136;
    rgba[i + 2] = noisy ? (Math.random() * 256) | 0 : 229;
    rgba[i + 3] = 255;
  }
  return encodePng(width, height, rgba);
}

export function appleBlock(pass: PassCertificate, p: TestPki = sharedPki()) {
  return {
    passTypeIdentifier: pass.passTypeIdentifier,
    teamIdentifier: pass.teamIdentifier,
    certificatePem: pass.certificatePem,
    privateKeyPem: pass.privateKeyPem,
    ...(pass.privateKeyPassphrase ? { privateKeyPassphrase: pass.privateKeyPassphrase } : {}),
    wwdrCertificatePem: p.wwdr.certPem,
  };
}

/** Creates a wallet configuration over HTTP with an Apple and (optionally) a Google block. */
export async function createWalletConfiguration(
  t: TestApp,
  apiKey: string,
  opts: {
    google?: boolean;
    apple?: boolean;
    registerWith?: { registerServiceAccount(email: string, pem: string): void };
  } = {},
): Promise<WalletFixture> {
  const pass = sharedPki().issuePassCertificate();
  const serviceAccount = createServiceAccountKey(
    `wallet-${Math.random().toString(36).slice(2, 8)}@test.iam.gserviceaccount.com`,
  );
  opts.registerWith?.registerServiceAccount(serviceAccount.key.client_email, serviceAccount.publicKeyPem);
  const issuerId = String(3388000000000000000n + BigInt(Math.floor(Math.random() * 1e9)));
  const body: Record<string, unknown> = { name: 'Test configuration' };
  if (opts.apple !== false) body.apple = appleBlock(pass);
  if (opts.google) body.google = { issuerId, serviceAccountKey: serviceAccount.key };
  const res = await t.request('POST', '/api/v1/wallet-configurations', { token: apiKey, body });
  if (res.status !== 201)
    throw new Error(`wallet configuration failed: ${res.status} ${res.text.slice(0, 500)}`);
  return { id: res.body.id, pass, serviceAccount, issuerId };
}

export function campaignBody(walletConfigurationId: string, overrides: Record<string, unknown> = {}) {
  return {
    name: 'Summer voucher',
    walletConfigurationId,
    passStyle: 'coupon',
    template: {
      organizationName: 'Acme',
      description: 'Acme summer voucher',
      logoText: 'Acme',
      backgroundColor: '#1E88E5',
      foregroundColor: '#FFFFFF',
      labelColor: '#E3F2FD',
      headerFields: [{ key: 'value', label: 'Value', value: '{{voucher.value}}' }],
      primaryFields: [{ key: 'offer', label: 'Offer', value: '{{voucher.title|Summer deal}}' }],
      secondaryFields: [{ key: 'name', label: 'Name', value: '{{contact.firstName}} {{contact.lastName}}' }],
      auxiliaryFields: [],
      backFields: [{ key: 'terms', label: 'Terms', value: 'Valid until 31 August' }],
      barcode: { format: 'QR', message: '{{voucher.code}}', altText: '{{voucher.code}}' },
    },
    images: { icon: makePng(29, 29).toString('base64'), logo: makePng(160, 50).toString('base64') },
    ...overrides,
  };
}

export async function createCampaign(
  t: TestApp,
  apiKey: string,
  walletConfigurationId: string,
  overrides: Record<string, unknown> = {},
) {
  const res = await t.request('POST', '/api/v1/campaigns', {
    token: apiKey,
    body: campaignBody(walletConfigurationId, overrides),
  });
  if (res.status !== 201) throw new Error(`campaign failed: ${res.status} ${res.text.slice(0, 500)}`);
  return res.body as { id: string; google: { classId: string; syncStatus: string } | null } & Record<
    string,
    unknown
  >;
}

export async function makeLinks(t: TestApp, apiKey: string, requests: unknown[]): Promise<string[]> {
  const res = await t.request('POST', '/pers/v1/urls', { token: apiKey, body: { requests } });
  if (res.status !== 200) throw new Error(`links failed: ${res.status} ${res.text.slice(0, 500)}`);
  return (res.body.urls as { url?: string; error?: unknown }[]).map((u) => {
    if (!u.url) throw new Error(`link error: ${JSON.stringify(u.error)}`);
    return u.url;
  });
}

/** The path part of a generated link, to call on the test app. */
export function linkPath(url: string): string {
  return new URL(url).pathname;
}
