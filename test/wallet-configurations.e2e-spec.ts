import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { WalletConfigurationsService } from '../src/modules/wallet-configurations/wallet-configurations.service';
import { createServiceAccountKey, createTestPki, PassCertificate, TestPki } from './support/certs';
import { expectNoSecrets, HttpResult, startTestApp, TestApp } from './support/test-app';

const BASE = '/api/v1/wallet-configurations';
const ISSUER_ID = '3388000000012345678';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('wallet configurations (e2e)', () => {
  let t: TestApp;
  let pki: TestPki;
  let otherPki: TestPki;
  let service: WalletConfigurationsService;

  beforeAll(async () => {
    t = await startTestApp();
    service = t.app.get(WalletConfigurationsService);
    pki = createTestPki();
    otherPki = createTestPki();
  });
  afterAll(async () => {
    await t.close();
    pki.cleanup();
    otherPki.cleanup();
  });

  /** Every response of this file goes through here and is scanned for key material. */
  async function call(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<HttpResult> {
    const res = await t.request(method, path, { token, body });
    expectNoSecrets(res.text);
    return res;
  }

  function appleBlock(cert: PassCertificate = pki.issuePassCertificate()) {
    return {
      passTypeIdentifier: cert.passTypeIdentifier,
      teamIdentifier: cert.teamIdentifier,
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
      ...(cert.privateKeyPassphrase !== undefined ? { privateKeyPassphrase: cert.privateKeyPassphrase } : {}),
      wwdrCertificatePem: pki.wwdr.certPem,
    };
  }

  function googleBlock(email?: string) {
    return { issuerId: ISSUER_ID, serviceAccountKey: createServiceAccountKey(email).key };
  }

  async function create(token: string, body: unknown): Promise<HttpResult> {
    const res = await call('POST', BASE, token, body);
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
    return res;
  }

  async function insertCampaign(tenantId: string, walletConfigurationId: string): Promise<string> {
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO campaigns (tenant_id, wallet_configuration_id, name, pass_style, template)
       VALUES ($1, $2, 'Summer voucher', 'coupon', '{}'::jsonb) RETURNING id`,
      [tenantId, walletConfigurationId],
    );
    return rows[0]!.id;
  }

  it('creates a configuration with Apple and Google blocks and answers without any secret', async () => {
    const tenant = await t.createTenant();
    const cert = pki.issuePassCertificate();
    const google = googleBlock();
    const res = await call('POST', BASE, tenant.apiKey, {
      name: 'Acme production',
      apple: appleBlock(cert),
      google,
    });

    expect(res.status).toBe(201);
    const expiresAt = new Date(new X509Certificate(cert.certificatePem).validTo).toISOString();
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Acme production',
      apple: {
        passTypeIdentifier: cert.passTypeIdentifier,
        teamIdentifier: cert.teamIdentifier,
        certificatePem: cert.certificatePem,
        wwdrCertificatePem: pki.wwdr.certPem,
        certificateExpiresAt: expiresAt,
        certificateDaysLeft: Math.floor((Date.parse(expiresAt) - Date.now()) / 86_400_000),
        warnings: [],
        apnsStatus: 'OK',
        apnsError: null,
        apns: { status: 'OK', message: null, since: null },
      },
      google: { issuerId: ISSUER_ID, clientEmail: google.serviceAccountKey.client_email },
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(res.text).not.toContain('privateKey');
    expect(res.text).not.toContain('serviceAccountKey');

    const one = await call('GET', `${BASE}/${res.body.id}`, tenant.apiKey);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(res.body);

    const list = await call('GET', BASE, tenant.apiKey);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: [res.body], total: 1, limit: 50, offset: 0 });
  });

  it('allows a draft with neither block, and either block alone', async () => {
    const tenant = await t.createTenant();
    const draft = await call('POST', BASE, tenant.apiKey, { name: 'Draft' });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ name: 'Draft', apple: null, google: null, version: 1 });

    const appleOnly = await call('POST', BASE, tenant.apiKey, {
      name: 'Apple only',
      apple: appleBlock(),
      google: null,
    });
    expect(appleOnly.status).toBe(201);
    expect(appleOnly.body.google).toBeNull();
    expect(appleOnly.body.apple.passTypeIdentifier).toMatch(/^pass\./);

    const googleOnly = await call('POST', BASE, tenant.apiKey, {
      name: 'Google only',
      google: googleBlock(),
    });
    expect(googleOnly.status).toBe(201);
    expect(googleOnly.body.apple).toBeNull();
    expect(googleOnly.body.google.issuerId).toBe(ISSUER_ID);
  });

  it('stores secrets encrypted, bound to their row, and decrypts them back for other modules', async () => {
    const tenant = await t.createTenant();
    const cert = pki.issuePassCertificate({ passphrase: 'correct horse battery' });
    const google = googleBlock();
    const res = await create(tenant.apiKey, { name: 'Encrypted', apple: appleBlock(cert), google });
    const id = res.body.id as string;

    const { rows } = await t.db.query('SELECT * FROM wallet_configurations WHERE id = $1', [id]);
    expect(rows).toHaveLength(1);
    const row = rows[0];
    for (const column of ['apple_private_key_enc', 'apple_passphrase_enc', 'google_service_account_enc']) {
      expect(typeof row[column]).toBe('string');
      expect(row[column]).not.toMatch(/BEGIN|PRIVATE KEY|private_key|correct horse/);
    }
    expect(row.tenant_id).toBe(tenant.id);
    expect(row.google_client_email).toBe(google.serviceAccountKey.client_email);
    expect(JSON.stringify(row)).not.toContain('PRIVATE KEY');

    const entity = await service.get(tenant.id, id);
    expect(service.decryptApple(entity)).toEqual({
      passTypeIdentifier: cert.passTypeIdentifier,
      teamIdentifier: cert.teamIdentifier,
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
      privateKeyPassphrase: 'correct horse battery',
      wwdrCertificatePem: pki.wwdr.certPem,
    });
    expect(service.decryptGoogle(entity)).toEqual({
      issuerId: ISSUER_ID,
      serviceAccountKey: google.serviceAccountKey,
    });
    expect((await service.findById(id))?.tenantId).toBe(tenant.id);

    // A ciphertext copied into another row does not decrypt there.
    const other = await create(tenant.apiKey, { name: 'Other' });
    const moved = { ...(await service.get(tenant.id, other.body.id)) };
    moved.applePassTypeIdentifier = entity.applePassTypeIdentifier;
    moved.appleTeamIdentifier = entity.appleTeamIdentifier;
    moved.appleCertificatePem = entity.appleCertificatePem;
    moved.appleWwdrCertificatePem = entity.appleWwdrCertificatePem;
    moved.applePrivateKeyEnc = entity.applePrivateKeyEnc;
    expect(() => service.decryptApple(moved)).toThrow(/authenticate/);

    // Unencrypted keys carry no passphrase; configurations without blocks decrypt to null.
    const plain = await create(tenant.apiKey, { name: 'Plain', apple: appleBlock() });
    expect(service.decryptApple(await service.get(tenant.id, plain.body.id))).not.toHaveProperty(
      'privateKeyPassphrase',
    );
    expect(service.decryptGoogle(await service.get(tenant.id, plain.body.id))).toBeNull();
    expect(service.decryptApple(await service.get(tenant.id, other.body.id))).toBeNull();
  });

  it('lists page by page, oldest first, only the tenant’s own', async () => {
    const tenant = await t.createTenant();
    const stranger = await t.createTenant();
    await create(stranger.apiKey, { name: 'Not yours' });
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) ids.push((await create(tenant.apiKey, { name })).body.id);

    const res = await call('GET', `${BASE}?limit=2&offset=1`, tenant.apiKey);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(ids.slice(1));
    expect(res.body.items.map((i: { name: string }) => i.name)).toEqual(['two', 'three']);

    const bad = await call('GET', `${BASE}?limit=500`, tenant.apiKey);
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].field).toBe('limit');
  });

  it('patches the name and replaces or removes blocks, bumping the version each time', async () => {
    const tenant = await t.createTenant();
    const cert = pki.issuePassCertificate();
    const created = await create(tenant.apiKey, {
      name: 'Before',
      apple: appleBlock(cert),
      google: googleBlock(),
    });
    const id = created.body.id as string;

    const renamed = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { name: 'After' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      id,
      name: 'After',
      version: 2,
      apple: created.body.apple,
      google: created.body.google,
    });
    expect(Date.parse(renamed.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));

    // Certificate renewal: same pass type id, new certificate and key (encrypted this time).
    const renewed = pki.issuePassCertificate({
      passTypeIdentifier: cert.passTypeIdentifier,
      passphrase: 'renewal-2025',
    });
    const replaced = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { apple: appleBlock(renewed) });
    expect(replaced.status).toBe(200);
    expect(replaced.body.version).toBe(3);
    expect(replaced.body.name).toBe('After');
    expect(replaced.body.apple.certificatePem).toBe(renewed.certificatePem);
    const apple = service.decryptApple(await service.get(tenant.id, id));
    expect(apple?.privateKeyPem).toBe(renewed.privateKeyPem);
    expect(apple?.privateKeyPassphrase).toBe('renewal-2025');

    const newGoogle = googleBlock('other@test-project.iam.gserviceaccount.com');
    const swapped = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { google: newGoogle });
    expect(swapped.status).toBe(200);
    expect(swapped.body.google).toEqual({
      issuerId: ISSUER_ID,
      clientEmail: 'other@test-project.iam.gserviceaccount.com',
    });
    expect(service.decryptGoogle(await service.get(tenant.id, id))?.serviceAccountKey).toEqual(
      newGoogle.serviceAccountKey,
    );

    const removed = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { google: null });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ version: 5, google: null, apple: replaced.body.apple });
    const { rows } = await t.db.query(
      'SELECT google_issuer_id, google_client_email, google_service_account_enc, version FROM wallet_configurations WHERE id = $1',
      [id],
    );
    expect(rows[0]).toEqual({
      google_issuer_id: null,
      google_client_email: null,
      google_service_account_enc: null,
      version: 5,
    });

    const noop = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, {});
    expect(noop.status).toBe(200);
    expect(noop.body.version).toBe(5);

    const invalid = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, {
      apple: appleBlock(
        pki.issuePassCertificate({ passTypeIdentifier: cert.passTypeIdentifier, expired: true }),
      ),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.fields[0].field).toBe('apple.certificatePem');
    const after = await call('GET', `${BASE}/${id}`, tenant.apiKey);
    expect(after.body).toEqual(removed.body);

    const nullName = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { name: null });
    expect(nullName.status).toBe(400);
    expect(nullName.body.error.fields[0].field).toBe('name');
  });

  it('deletes a configuration no campaign uses', async () => {
    const tenant = await t.createTenant();
    const created = await create(tenant.apiKey, { name: 'Short-lived', apple: appleBlock() });
    const del = await call('DELETE', `${BASE}/${created.body.id}`, tenant.apiKey);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const gone = await call('GET', `${BASE}/${created.body.id}`, tenant.apiKey);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('WALLET_CONFIGURATION_NOT_FOUND');
    expect((await call('DELETE', `${BASE}/${created.body.id}`, tenant.apiKey)).status).toBe(404);
    const { rows } = await t.db.query('SELECT 1 FROM wallet_configurations WHERE id = $1', [created.body.id]);
    expect(rows).toHaveLength(0);
  });

  it('requires an API key on every route', async () => {
    const tenant = await t.createTenant();
    const created = await create(tenant.apiKey, { name: 'Guarded' });
    const path = `${BASE}/${created.body.id}`;
    const attempts: [string, string, unknown][] = [
      ['POST', BASE, { name: 'x' }],
      ['GET', BASE, undefined],
      ['GET', path, undefined],
      ['PATCH', path, { name: 'x' }],
      ['DELETE', path, undefined],
    ];
    for (const [method, p, body] of attempts) {
      const none = await call(method, p, null, body);
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('UNAUTHORIZED');
      const wrong = await call(method, p, 'wsk_aaaaaaaaaaaaaaaa_' + 'b'.repeat(43), body);
      expect(wrong.status).toBe(401);
    }
    const still = await call('GET', path, tenant.apiKey);
    expect(still.body).toMatchObject({ name: 'Guarded', version: 1 });
  });

  it("answers 404 for another tenant's configuration, exactly like a missing one", async () => {
    const owner = await t.createTenant('Owner');
    const stranger = await t.createTenant('Stranger');
    const created = await create(owner.apiKey, { name: 'Mine', google: googleBlock() });
    const id = created.body.id as string;
    const missing = '00000000-0000-4000-8000-000000000000';

    for (const target of [id, missing]) {
      const get = await call('GET', `${BASE}/${target}`, stranger.apiKey);
      const patch = await call('PATCH', `${BASE}/${target}`, stranger.apiKey, {
        name: 'Stolen',
        google: null,
      });
      const del = await call('DELETE', `${BASE}/${target}`, stranger.apiKey);
      for (const res of [get, patch, del]) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('WALLET_CONFIGURATION_NOT_FOUND');
        expect(res.body.error.message).toBe('Wallet configuration not found');
      }
    }
    const list = await call('GET', BASE, stranger.apiKey);
    expect(list.body.total).toBe(0);
    await expect(service.get(stranger.id, id)).rejects.toMatchObject({
      code: 'WALLET_CONFIGURATION_NOT_FOUND',
    });

    const intact = await call('GET', `${BASE}/${id}`, owner.apiKey);
    expect(intact.status).toBe(200);
    expect(intact.body).toEqual(created.body);

    const malformed = await call('GET', `${BASE}/not-a-uuid`, owner.apiKey);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.fields[0].field).toBe('id');
  });

  describe('refuses invalid uploads with 400 naming the field', () => {
    type Case = [
      label: string,
      body: () => Record<string, unknown>,
      code: string,
      field: string,
      message?: RegExp,
    ];
    const withApple = (patch: Record<string, unknown>, cert?: PassCertificate) => () => ({
      name: 'Invalid',
      apple: { ...appleBlock(cert), ...patch },
    });
    const withKey = (patch: Record<string, unknown>, drop?: string) => () => {
      const key: Record<string, unknown> = { ...createServiceAccountKey().key, ...patch };
      if (drop) delete key[drop];
      return { name: 'Invalid', google: { issuerId: ISSUER_ID, serviceAccountKey: key } };
    };
    const cases: Case[] = [
      [
        'garbage certificate',
        withApple({ certificatePem: 'not a certificate' }),
        'INVALID_CERTIFICATE',
        'apple.certificatePem',
      ],
      [
        'certificate PEM with a broken body',
        withApple({ certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
        'INVALID_CERTIFICATE',
        'apple.certificatePem',
        /X\.509/,
      ],
      [
        'expired certificate',
        () => ({ name: 'Invalid', apple: appleBlock(pki.issuePassCertificate({ expired: true })) }),
        'INVALID_CERTIFICATE',
        'apple.certificatePem',
        /expired on 2021-01-01/,
      ],
      [
        'key of another certificate',
        () => ({ name: 'Invalid', apple: { ...appleBlock(), privateKeyPem: pki.unrelatedKeyPem() } }),
        'INVALID_PRIVATE_KEY',
        'apple.privateKeyPem',
        /does not belong to the certificate/,
      ],
      [
        'garbage private key',
        withApple({ privateKeyPem: 'not a key' }),
        'INVALID_PRIVATE_KEY',
        'apple.privateKeyPem',
      ],
      [
        'wrong passphrase',
        () => ({
          name: 'Invalid',
          apple: {
            ...appleBlock(pki.issuePassCertificate({ passphrase: 'right-one' })),
            privateKeyPassphrase: 'wrong-one',
          },
        }),
        'INVALID_PRIVATE_KEY',
        'apple.privateKeyPassphrase',
        /wrong passphrase/,
      ],
      [
        'encrypted key without passphrase',
        () => {
          const { privateKeyPassphrase: _omitted, ...apple } = appleBlock(
            pki.issuePassCertificate({ passphrase: 'needed' }),
          );
          return { name: 'Invalid', apple };
        },
        'INVALID_PRIVATE_KEY',
        'apple.privateKeyPassphrase',
        /encrypted/,
      ],
      [
        'pass type id other than the certificate UID',
        withApple({ passTypeIdentifier: 'pass.com.example.someoneelse' }),
        'INVALID_CERTIFICATE',
        'apple.passTypeIdentifier',
        /subject UID/,
      ],
      [
        'team id other than the certificate OU',
        withApple({ teamIdentifier: 'ZZZZZ99999' }),
        'INVALID_CERTIFICATE',
        'apple.teamIdentifier',
        /ABCDE12345/,
      ],
      [
        'WWDR certificate that did not issue the pass certificate',
        () => ({ name: 'Invalid', apple: { ...appleBlock(), wwdrCertificatePem: otherPki.wwdr.certPem } }),
        'INVALID_CERTIFICATE',
        'apple.wwdrCertificatePem',
        /did not issue/,
      ],
      [
        'garbage WWDR certificate',
        withApple({ wwdrCertificatePem: 'nope' }),
        'INVALID_CERTIFICATE',
        'apple.wwdrCertificatePem',
      ],
      [
        'badly formed pass type id',
        withApple({ passTypeIdentifier: 'com.acme.voucher' }),
        'VALIDATION_FAILED',
        'apple.passTypeIdentifier',
      ],
      [
        'badly formed team id',
        withApple({ teamIdentifier: 'abc' }),
        'VALIDATION_FAILED',
        'apple.teamIdentifier',
      ],
      [
        'missing WWDR certificate',
        () => {
          const { wwdrCertificatePem: _omitted, ...apple } = appleBlock();
          return { name: 'Invalid', apple };
        },
        'VALIDATION_FAILED',
        'apple.wwdrCertificatePem',
      ],
      [
        'service-account key without client_email',
        withKey({}, 'client_email'),
        'INVALID_SERVICE_ACCOUNT_KEY',
        'google.serviceAccountKey.client_email',
      ],
      [
        'service-account private_key that is not a key',
        withKey({ private_key: 'not a key' }),
        'INVALID_SERVICE_ACCOUNT_KEY',
        'google.serviceAccountKey.private_key',
      ],
      [
        'service-account private_key that is an EC key',
        withKey({ private_key: ecKeyPem() }),
        'INVALID_SERVICE_ACCOUNT_KEY',
        'google.serviceAccountKey.private_key',
        /RSA/,
      ],
      [
        'key of another type',
        withKey({ type: 'authorized_user' }),
        'INVALID_SERVICE_ACCOUNT_KEY',
        'google.serviceAccountKey.type',
      ],
      [
        'service-account key given as a string',
        () => ({ name: 'Invalid', google: { issuerId: ISSUER_ID, serviceAccountKey: 'a string' } }),
        'INVALID_SERVICE_ACCOUNT_KEY',
        'google.serviceAccountKey',
      ],
      [
        'non-digit issuer id',
        () => ({ name: 'Invalid', google: { ...googleBlock(), issuerId: '3388abc' } }),
        'VALIDATION_FAILED',
        'google.issuerId',
      ],
      [
        'issuer id longer than 25 digits',
        () => ({ name: 'Invalid', google: { ...googleBlock(), issuerId: '1'.repeat(26) } }),
        'VALIDATION_FAILED',
        'google.issuerId',
      ],
      ['unknown top-level field', () => ({ name: 'Invalid', owner: 'me' }), 'VALIDATION_FAILED', 'owner'],
      [
        'unknown field in the Apple block',
        withApple({ keychain: 'login' }),
        'VALIDATION_FAILED',
        'apple.keychain',
      ],
      ['missing name', () => ({ google: googleBlock() }), 'VALIDATION_FAILED', 'name'],
    ];

    // A rest parameter: jest would pass `done` in place of a missing optional `message`.
    it.each(cases)('%s', async (...[, body, code, field, message]: Case) => {
      const tenant = await t.createTenant();
      const res = await call('POST', BASE, tenant.apiKey, body());
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
      if (message) expect(res.body.error.message).toMatch(message);
      const { rows } = await t.db.query(
        'SELECT count(*)::int AS n FROM wallet_configurations WHERE tenant_id = $1',
        [tenant.id],
      );
      expect(rows[0].n).toBe(0);
    });
  });

  it('refuses to delete a configuration used by a campaign, or to pull a block it relies on', async () => {
    const tenant = await t.createTenant();
    const cert = pki.issuePassCertificate();
    const created = await create(tenant.apiKey, {
      name: 'In use',
      apple: appleBlock(cert),
      google: googleBlock(),
    });
    const id = created.body.id as string;
    const campaignId = await insertCampaign(tenant.id, id);

    const del = await call('DELETE', `${BASE}/${id}`, tenant.apiKey);
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('WALLET_CONFIGURATION_IN_USE');
    expect(del.body.error.message).toContain('1 campaign');

    const pullApple = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { apple: null });
    expect(pullApple.status).toBe(409);
    expect(pullApple.body.error.code).toBe('WALLET_CONFIGURATION_IN_USE');
    const otherPassType = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { apple: appleBlock() });
    expect(otherPassType.status).toBe(409);
    const otherIssuer = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, {
      google: { ...googleBlock(), issuerId: '3388000000099999999' },
    });
    expect(otherIssuer.status).toBe(409);

    const unchanged = await call('GET', `${BASE}/${id}`, tenant.apiKey);
    expect(unchanged.body).toEqual(created.body);

    // Renewing the certificate for the same pass type id is what running campaigns need.
    const renewal = pki.issuePassCertificate({ passTypeIdentifier: cert.passTypeIdentifier });
    const renewed = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, { apple: appleBlock(renewal) });
    expect(renewed.status).toBe(200);
    expect(renewed.body.version).toBe(2);

    await t.db.query('DELETE FROM campaigns WHERE id = $1', [campaignId]);
    expect((await call('DELETE', `${BASE}/${id}`, tenant.apiKey)).status).toBe(204);
  });

  it('records APNs health without counting it as a change', async () => {
    const tenant = await t.createTenant();
    const created = await create(tenant.apiKey, { name: 'Pushing', apple: appleBlock() });
    const id = created.body.id as string;

    await service.setApnsHealth(id, 'UNHEALTHY', 'certificate rejected: BadCertificate');
    const sick = await call('GET', `${BASE}/${id}`, tenant.apiKey);
    expect(sick.body.apple).toMatchObject({
      apnsStatus: 'UNHEALTHY',
      apnsError: 'certificate rejected: BadCertificate',
    });
    expect(sick.body.version).toBe(1);
    expect(sick.body.updatedAt).toBe(created.body.updatedAt);
    const unhealthy = await service.listUnhealthy();
    expect(unhealthy.find((u) => u.id === id)).toMatchObject({
      tenantId: tenant.id,
      name: 'Pushing',
      passTypeIdentifier: created.body.apple.passTypeIdentifier,
      apnsStatus: 'UNHEALTHY',
    });

    await service.setApnsHealth(id, 'OK', 'ignored when healthy');
    const healed = await call('GET', `${BASE}/${id}`, tenant.apiKey);
    expect(healed.body.apple).toMatchObject({ apnsStatus: 'OK', apnsError: null });
    expect((await service.listUnhealthy()).some((u) => u.id === id)).toBe(false);

    // New credentials start healthy again.
    await service.setApnsHealth(id, 'UNHEALTHY', 'expired');
    const replaced = await call('PATCH', `${BASE}/${id}`, tenant.apiKey, {
      apple: appleBlock(
        pki.issuePassCertificate({ passTypeIdentifier: created.body.apple.passTypeIdentifier }),
      ),
    });
    expect(replaced.body.apple).toMatchObject({ apnsStatus: 'OK', apnsError: null });
  });

  it('documents the routes in OpenAPI, secrets marked write-only', async () => {
    const doc = await call('GET', '/docs/openapi.json', null);
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths['/api/v1/wallet-configurations'])).toEqual(
      expect.arrayContaining(['get', 'post']),
    );
    expect(Object.keys(doc.body.paths['/api/v1/wallet-configurations/{id}'])).toEqual(
      expect.arrayContaining(['get', 'patch', 'delete']),
    );
    const apple = doc.body.components.schemas.AppleCredentialsDto;
    expect(apple.properties.privateKeyPem.writeOnly).toBe(true);
    expect(apple.properties.privateKeyPassphrase.writeOnly).toBe(true);
    expect(doc.body.components.schemas.GoogleCredentialsDto.properties.serviceAccountKey.writeOnly).toBe(
      true,
    );
    expect(doc.body.paths['/api/v1/wallet-configurations'].post.description).toMatch(/draft/);
  });

  it('never writes key material to the logs', async () => {
    const tenant = await t.createTenant();
    const cert = pki.issuePassCertificate({ passphrase: 'log-me-not' });
    const created = await create(tenant.apiKey, {
      name: 'Logged',
      apple: appleBlock(cert),
      google: googleBlock(),
    });
    await call('PATCH', `${BASE}/${created.body.id}`, tenant.apiKey, {
      apple: appleBlock(cert),
      google: googleBlock(),
    });
    await call('POST', BASE, tenant.apiKey, {
      name: 'Bad',
      apple: { ...appleBlock(cert), privateKeyPassphrase: 'nope' },
    });
    await service.setApnsHealth(created.body.id, 'UNHEALTHY', 'handshake failed');

    const logs = t.logs.text();
    expect(logs).toContain('wallet configuration created');
    expectNoSecrets(logs);
    expect(logs).not.toContain('log-me-not');
    expect(logs).not.toContain(cert.privateKeyPem.split('\n')[1]!);
  });
});

function ecKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}
