import { createServiceAccountKey } from '../../../test/support/certs';
import { startFakeGoogle, type FakeGoogle } from '../../../test/support/fake-google';
import {
  GOOGLE_TYPE_BY_STYLE,
  PASS_STYLES,
  type CampaignTemplate,
} from '../../domain/pass-design/campaign-template';
import { GOOGLE_WALLET_SCOPE, GoogleWalletClient, GoogleWalletError } from './google-wallet.client';
import { buildGoogleClass, buildGoogleObject } from './google-wallet.mapper';

const ISSUER = '3388000000012345678';

describe('GoogleWalletClient against the fake Google', () => {
  let fake: FakeGoogle;
  const account = createServiceAccountKey('wallet-client@test-project.iam.gserviceaccount.com');
  let suffix = 0;
  const nextId = (name: string) => `${ISSUER}.${name}_${++suffix}`;

  const clientFor = (key: typeof account.key = account.key, timeoutMs = 2000) =>
    new GoogleWalletClient({
      serviceAccountKey: key,
      apiBaseUrl: fake.apiUrl,
      tokenUrl: fake.tokenUrl,
      timeoutMs,
    });

  /** Awaits `promise`, which must reject, and returns what it rejected with. */
  async function failure(promise: Promise<unknown>): Promise<GoogleWalletError> {
    const outcome = await promise.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(GoogleWalletError);
    return outcome as GoogleWalletError;
  }

  beforeAll(async () => {
    fake = await startFakeGoogle();
    fake.registerServiceAccount(account.key.client_email, account.publicKeyPem);
  });

  afterAll(async () => {
    await fake.close();
  });

  afterEach(() => {
    fake.setOutage(false);
    fake.setDelayMs(0);
  });

  it('fetches one access token from the fake with a verified assertion and reuses it', async () => {
    const client = clientFor();
    const tokensBefore = fake.requests.filter((r) => r.path === '/token').length;
    const assertionsBefore = fake.verifiedAssertions.length;
    const classId = nextId('token_reuse');

    await client.insertClass('generic', { id: classId });
    expect(await client.getClass('generic', classId)).toMatchObject({
      id: classId,
      kind: 'walletobjects#genericClass',
    });
    await client.patchClass('generic', classId, {
      multipleDevicesAndHoldersAllowedStatus: 'MULTIPLE_HOLDERS',
    });

    expect(fake.requests.filter((r) => r.path === '/token')).toHaveLength(tokensBefore + 1);
    expect(fake.verifiedAssertions).toHaveLength(assertionsBefore + 1);
    const assertion = fake.verifiedAssertions[assertionsBefore]!;
    expect(assertion.iss).toBe(account.key.client_email);
    expect(String(assertion.scope).split(' ')).toContain(GOOGLE_WALLET_SCOPE);
    expect(fake.classes.get(classId)).toMatchObject({
      multipleDevicesAndHoldersAllowedStatus: 'MULTIPLE_HOLDERS',
    });
  });

  it('upserts a class: inserted first, then only the changed fields patched', async () => {
    const client = clientFor();
    const id = nextId('offer_class');
    const resource = {
      id,
      issuerName: 'Acme',
      provider: 'Acme',
      title: '20% off',
      redemptionChannel: 'BOTH',
      reviewStatus: 'UNDER_REVIEW',
    };

    expect(await client.upsertClass('offer', resource)).toBe('created');
    expect(await client.upsertClass('offer', { ...resource, title: '30% off' })).toBe('updated');

    const patches = fake.requests.filter(
      (r) => r.method === 'PATCH' && r.path === `/walletobjects/v1/offerClass/${id}`,
    );
    expect(patches).toHaveLength(1);
    expect(patches[0]!.body).toEqual({ title: '30% off' });
    expect(fake.classes.get(id)).toMatchObject({ title: '30% off', issuerName: 'Acme' });

    expect(await client.upsertClass('offer', { ...resource, title: '30% off' })).toBe('updated');
    expect(fake.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(id))).toHaveLength(1);
  });

  it('inserts an object once: created, then exists without overwriting it', async () => {
    const client = clientFor();
    const classId = nextId('generic_class');
    const objectId = nextId('generic_object');
    await client.insertClass('generic', { id: classId });
    const object = {
      id: objectId,
      classId,
      state: 'ACTIVE',
      cardTitle: { defaultValue: { language: 'en-US', value: 'Acme' } },
      header: { defaultValue: { language: 'en-US', value: 'Ada' } },
    };

    expect(await client.insertObject('generic', object)).toBe('created');
    expect(
      await client.insertObject('generic', {
        ...object,
        header: { defaultValue: { language: 'en-US', value: 'Bob' } },
      }),
    ).toBe('exists');
    expect(fake.objects.get(objectId)).toMatchObject({ header: { defaultValue: { value: 'Ada' } } });

    const patched = await client.patchObject('generic', objectId, { state: 'INACTIVE' });
    expect(patched).toMatchObject({ id: objectId, state: 'INACTIVE', cardTitle: object.cardTitle });
    expect(await client.getObject('generic', objectId)).toMatchObject({ state: 'INACTIVE' });
    expect(await client.getObject('generic', nextId('missing'))).toBeNull();
  });

  it('reports Google 4xx answers as non-retryable errors with status and reason', async () => {
    const client = clientFor();
    const err = await failure(
      client.insertObject('offer', {
        id: nextId('orphan'),
        classId: nextId('no_such_class'),
        state: 'ACTIVE',
      }),
    );
    expect(err).toMatchObject({ status: 404, reason: 'classNotFound', retryable: false });
    expect(err.message).toContain('POST offerObject');

    const badId = await failure(client.insertClass('generic', { id: 'not-an-issuer-id' }));
    expect(badId).toMatchObject({ status: 400, retryable: false });

    fake.failNext('/walletobjects/v1/genericClass', 403);
    const denied = await failure(client.insertClass('generic', { id: nextId('denied') }));
    expect(denied).toMatchObject({ status: 403, reason: 'forbidden', retryable: false });
  });

  it('reports 429 and 5xx as retryable', async () => {
    const client = clientFor();
    fake.failNext('/walletobjects/v1/genericClass', 429);
    expect(await failure(client.insertClass('generic', { id: nextId('busy') }))).toMatchObject({
      status: 429,
      retryable: true,
    });

    fake.setOutage(true);
    const outage = await failure(client.getClass('generic', nextId('outage')));
    expect(outage).toMatchObject({ status: 503, retryable: true });
  });

  it('answers within the timeout when Google hangs, for the token fetch and for REST calls', async () => {
    const warm = clientFor(account.key, 500);
    const classId = nextId('slow');
    await warm.insertClass('generic', { id: classId });
    fake.setDelayMs(5000);

    const cold = clientFor(account.key, 500);
    let started = Date.now();
    const tokenTimeout = await failure(cold.getClass('generic', classId));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(tokenTimeout).toMatchObject({ retryable: true, reason: 'TimeoutError', status: undefined });
    expect(tokenTimeout.message).toContain('access token');

    started = Date.now();
    const restTimeout = await failure(warm.getClass('generic', classId));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(restTimeout).toMatchObject({ retryable: true, reason: 'TimeoutError' });
    expect(restTimeout.message).toContain(`GET genericClass/${classId}`);
  });

  it('reports a key Google does not accept as a non-retryable error that shows no key material', async () => {
    const impostor = createServiceAccountKey(account.key.client_email);
    const client = clientFor(impostor.key);

    const err = await failure(client.insertClass('generic', { id: nextId('impostor') }));
    expect(err).toMatchObject({ status: 401, reason: 'invalid_grant', retryable: false });
    expect(err.message).toMatch(/access token/);

    const visible = `${err.message}\n${err.stack ?? ''}\n${JSON.stringify(err)}`;
    expect(visible).not.toContain('PRIVATE KEY');
    const keyBody = impostor.key.private_key
      .split('\n')
      .filter((l) => l.length > 0 && !l.startsWith('-----'));
    for (const line of keyBody) expect(visible).not.toContain(line);
  });

  it('reports an unregistered service account as invalid_client', async () => {
    const stranger = createServiceAccountKey('stranger@test-project.iam.gserviceaccount.com');
    const err = await failure(clientFor(stranger.key).getObject('generic', nextId('x')));
    expect(err).toMatchObject({ status: 401, reason: 'invalid_client', retryable: false });
  });

  it('reports an unreachable Google as retryable', async () => {
    const other = await startFakeGoogle();
    const apiUrl = other.apiUrl;
    const tokenUrl = other.tokenUrl;
    await other.close();
    const client = new GoogleWalletClient({
      serviceAccountKey: account.key,
      apiBaseUrl: apiUrl,
      tokenUrl,
      timeoutMs: 500,
    });
    const err = await failure(client.getClass('generic', nextId('gone')));
    expect(err).toMatchObject({ retryable: true, status: undefined });
    expect(err.reason).toBe('ECONNREFUSED');
  });

  it.each(PASS_STYLES)('stores the mapped class and object of a %s campaign', async (style) => {
    const client = clientFor();
    const type = GOOGLE_TYPE_BY_STYLE[style];
    const template: CampaignTemplate = {
      organizationName: 'Acme',
      description: 'Acme summer voucher',
      backgroundColor: '#1E88E5',
      headerFields: [],
      primaryFields: [{ key: 'offer', label: 'Offer', value: '{{voucher.title}}' }],
      secondaryFields: [],
      auxiliaryFields: [],
      backFields: [{ key: 'terms', label: 'Terms', value: 'Valid until 31 August' }],
      barcode: { format: 'QR', message: '{{voucher.code}}' },
    };
    const rendered: CampaignTemplate = {
      ...template,
      primaryFields: [{ key: 'offer', label: 'Offer', value: '10% off' }],
      barcode: { format: 'QR', message: 'SUMMER-001' },
    };
    const classId = nextId(`${style}_class`);
    const objectId = nextId(`${style}_object`);
    const logoUrl = 'https://wallet.example.com/logo.png';

    const cls = buildGoogleClass({ style, classId, template, issuerName: 'Acme', logoUrl });
    expect(await client.upsertClass(type, cls)).toBe('created');
    const obj = buildGoogleObject({
      style,
      objectId,
      classId,
      template: rendered,
      state: 'ACTIVE',
      logoUrl,
      accountId: 'c-1',
    });
    expect(await client.insertObject(type, obj)).toBe('created');

    expect(fake.classes.get(classId)).toMatchObject({ kind: `walletobjects#${type}Class` });
    expect(fake.objects.get(objectId)).toMatchObject({
      kind: `walletobjects#${type}Object`,
      classId,
      barcode: { type: 'QR_CODE', value: 'SUMMER-001' },
    });
  });
});
