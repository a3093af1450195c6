import { createServiceAccountKey } from './support/certs';
import { appleBlock, sharedPki } from './support/fixtures';
import { ADMIN_TOKEN, startTestApp, TestApp } from './support/test-app';

const CONFIGURATIONS = '/api/v1/wallet-configurations';

describe('credentials checked as Apple and Google require (e2e)', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp();
    key = (await t.createTenant('Checked')).apiKey;
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: Record<string, unknown>) =>
    t.request('POST', CONFIGURATIONS, { token: key, body: { name: 'Checked', ...body } });

  it('refuses an RSA pass key shorter than 2048 bits, naming the field', async () => {
    const weak = sharedPki().issuePassCertificate({ keyBits: 1024 });
    const res = await create({ apple: appleBlock(weak) });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual([
      { field: 'apple.privateKeyPem', message: expect.stringContaining('1024-bit') },
    ]);
  });

  it('refuses a Google service-account key shorter than 2048 bits, naming the field', async () => {
    const sa = createServiceAccountKey('short@test.iam.gserviceaccount.com', 1024);
    const res = await create({ google: { issuerId: '3388000000012345678', serviceAccountKey: sa.key } });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual([
      { field: 'google.serviceAccountKey.private_key', message: expect.stringContaining('1024-bit') },
    ]);
    expect(res.text).not.toContain('PRIVATE KEY');
  });

  it('refuses a pass certificate without its UID (pass type id) or OU (team id)', async () => {
    const noUid = sharedPki().issuePassCertificate({ omitUid: true });
    const a = await create({ apple: appleBlock(noUid) });
    expect(a.status).toBe(400);
    expect(a.body.error.fields[0]).toEqual({
      field: 'apple.certificatePem',
      message: expect.stringContaining('subject UID'),
    });
    const noTeam = sharedPki().issuePassCertificate({ omitTeam: true });
    const b = await create({ apple: appleBlock(noTeam) });
    expect(b.status).toBe(400);
    expect(b.body.error.fields[0]).toEqual({
      field: 'apple.certificatePem',
      message: expect.stringContaining('subject OU'),
    });
    const otherTeam = sharedPki().issuePassCertificate({ teamIdentifier: 'ZZZZZ99999' });
    const c = await create({ apple: { ...appleBlock(otherTeam), teamIdentifier: 'ABCDE12345' } });
    expect(c.status).toBe(400);
    expect(c.body.error.fields[0].field).toBe('apple.teamIdentifier');
  });

  it("accepts a chain whose WWDR is not Apple's, with a warning on the configuration", async () => {
    const pki = sharedPki();
    for (const subject of [
      '/CN=Example Issuing CA/O=Not Apple/C=US',
      // Apple's name, but a generation that no longer validates new pass certificates.
      '/CN=Apple Worldwide Developer Relations Certification Authority/OU=G3/O=Apple Inc./C=US',
    ]) {
      const intermediate = pki.issueIntermediate(subject);
      const pass = pki.issuePassCertificate({ issuer: intermediate });
      const res = await create({ apple: { ...appleBlock(pass), wwdrCertificatePem: intermediate.certPem } });
      expect({ subject, status: res.status }).toEqual({ subject, status: 201 });
      expect(res.body.apple.warnings).toEqual([
        expect.stringContaining('passes signed with this chain will not install on devices'),
      ]);
      const shown = await t.request('GET', `${CONFIGURATIONS}/${res.body.id}`, { token: key });
      expect(shown.body.apple.warnings).toEqual(res.body.apple.warnings);
    }
    const good = await create({ apple: appleBlock(pki.issuePassCertificate()) });
    expect(good.status).toBe(201);
    expect(good.body.apple.warnings).toEqual([]);
  });

  it('shows certificate expiry on the configuration, in /health/details and as a metric', async () => {
    const res = await create({ apple: appleBlock(sharedPki().issuePassCertificate()) });
    expect(res.status).toBe(201);
    const { id } = res.body as { id: string };
    const expiresAt = new Date(res.body.apple.certificateExpiresAt as string).getTime();
    const expected = Math.floor((expiresAt - Date.now()) / 86_400_000);
    expect(expected).toBeGreaterThanOrEqual(363); // the test certificates last 365 days
    expect(res.body.apple.certificateDaysLeft).toBe(expected);

    const details = await t.request('GET', '/health/details', { token: ADMIN_TOKEN });
    expect(details.status).toBe(200);
    expect(details.body.components.walletConfigurations.items).toContainEqual(
      expect.objectContaining({
        id,
        apnsStatus: 'OK',
        certificateExpiresAt: res.body.apple.certificateExpiresAt,
        certificateDaysLeft: expected,
      }),
    );
    const health = await t.request('GET', '/health');
    expect(health.body).toEqual({ status: expect.stringMatching(/^(ok|degraded)$/) });
    expect(health.text).not.toContain(id);

    const metrics = await t.request('GET', '/metrics');
    expect(metrics.text).toContain(
      `wallet_certificate_days_left{wallet_configuration_id="${id}"} ${expected}`,
    );
    expect(metrics.text).not.toContain('Checked');
  });
});
