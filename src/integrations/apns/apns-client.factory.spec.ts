import { Test } from '@nestjs/testing';
import { createTestPki, type PassCertificate, type TestPki } from '../../../test/support/certs';
import { startFakeApns, type FakeApns } from '../../../test/support/fake-apns';
import { ApnsClientFactory, APNS_CONNECTION_TUNING, type ApnsCredentials } from './apns-client.factory';
import { ApnsError } from './apns-connection';

const TOKEN = 'f00d'.repeat(16);

describe('ApnsClientFactory', () => {
  let pki: TestPki;
  let fake: FakeApns;
  let first: PassCertificate;
  let renewed: PassCertificate;
  let other: PassCertificate;
  const factories: ApnsClientFactory[] = [];

  beforeAll(async () => {
    pki = createTestPki();
    first = pki.issuePassCertificate({ passTypeIdentifier: 'pass.com.example.a' });
    renewed = pki.issuePassCertificate({ passTypeIdentifier: 'pass.com.example.a' });
    other = pki.issuePassCertificate({ passTypeIdentifier: 'pass.com.example.b' });
    const server = pki.issueServerCertificate(['localhost', '127.0.0.1']);
    fake = await startFakeApns({
      certPem: server.certPem,
      keyPem: server.keyPem,
      caPem: [pki.wwdr.certPem, pki.root.certPem],
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(factories.map((f) => f.closeAll()));
    await fake.close();
    pki.cleanup();
  });

  function factory(): ApnsClientFactory {
    const f = new ApnsClientFactory();
    factories.push(f);
    return f;
  }
  const creds = (id: string, cert: PassCertificate): ApnsCredentials => ({
    id,
    certificatePem: cert.certificatePem,
    privateKeyPem: cert.privateKeyPem,
  });
  const endpoint = () => ({ url: fake.url, caPem: pki.root.certPem });

  it('hands out one connection per credential and pushes through it', async () => {
    const f = factory();
    const a = f.get(creds('cfg-a', first), endpoint());

    expect(f.get(creds('cfg-a', first), endpoint())).toBe(a);
    const b = f.get(creds('cfg-b', other), endpoint());
    expect(b).not.toBe(a);
    expect(f.size).toBe(2);

    const [ra, rb] = await Promise.all([
      a.send(TOKEN, 'pass.com.example.a'),
      b.send(TOKEN, 'pass.com.example.b'),
    ]);
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    const subjects = fake.pushes.slice(-2).map((p) => p.clientCertSubject?.UID);
    expect(subjects.sort()).toEqual(['pass.com.example.a', 'pass.com.example.b']);
  });

  it('keeps the connection when the same certificate arrives re-encoded', () => {
    const f = factory();
    const a = f.get(creds('cfg-a', first), endpoint());
    const crlf = { ...creds('cfg-a', first), certificatePem: first.certificatePem.replace(/\n/g, '\r\n') };

    expect(f.get(crlf, endpoint())).toBe(a);
  });

  it('replaces the connection when the certificate changes and closes the old one', async () => {
    const f = factory();
    const old = f.get(creds('cfg-a', first), endpoint());
    await expect(old.send(TOKEN, 'pass.com.example.a')).resolves.toMatchObject({ status: 200 });

    const fresh = f.get(creds('cfg-a', renewed), endpoint());

    expect(fresh).not.toBe(old);
    expect(f.size).toBe(1);
    await expect(old.send(TOKEN, 'pass.com.example.a')).rejects.toMatchObject({ kind: 'closed' });
    await expect(fresh.send(TOKEN, 'pass.com.example.a')).resolves.toMatchObject({ status: 200 });
    expect(f.get(creds('cfg-a', renewed), endpoint())).toBe(fresh);
  });

  it('replaces the connection when the APNs URL changes', () => {
    const f = factory();
    const a = f.get(creds('cfg-a', first), endpoint());
    const moved = f.get(creds('cfg-a', first), { url: 'https://127.0.0.1:9', caPem: pki.root.certPem });
    expect(moved).not.toBe(a);
    expect(moved.origin).toBe('https://127.0.0.1:9');
  });

  it('throws a typed error for a certificate that does not parse', () => {
    const f = factory();
    expect(() =>
      f.get({ id: 'x', certificatePem: 'garbage', privateKeyPem: first.privateKeyPem }, endpoint()),
    ).toThrow(ApnsError);
    expect(f.size).toBe(0);
  });

  it('closeAll closes every connection and forgets them', async () => {
    const f = factory();
    const a = f.get(creds('cfg-a', first), endpoint());
    const b = f.get(creds('cfg-b', other), endpoint());
    await expect(a.send(TOKEN, 'pass.com.example.a')).resolves.toMatchObject({ status: 200 });

    await f.closeAll();

    expect(f.size).toBe(0);
    await expect(a.send(TOKEN, 'pass.com.example.a')).rejects.toMatchObject({ kind: 'closed' });
    await expect(b.send(TOKEN, 'pass.com.example.b')).rejects.toMatchObject({ kind: 'closed' });
    expect(f.get(creds('cfg-a', first), endpoint())).not.toBe(a);
  });

  it('is injectable, with optional tuning, and closes its connections on module destroy', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        ApnsClientFactory,
        { provide: APNS_CONNECTION_TUNING, useValue: { maxConcurrentStreams: 7 } },
      ],
    }).compile();
    const f = moduleRef.get(ApnsClientFactory);
    const a = f.get(creds('cfg-a', first), endpoint());
    await expect(a.send(TOKEN, 'pass.com.example.a')).resolves.toMatchObject({ status: 200 });
    expect(a.stats.streamLimit).toBe(7);

    await moduleRef.close();

    expect(f.size).toBe(0);
    await expect(a.send(TOKEN, 'pass.com.example.a')).rejects.toMatchObject({ kind: 'closed' });

    const bare = await Test.createTestingModule({ providers: [ApnsClientFactory] }).compile();
    expect(bare.get(ApnsClientFactory)).toBeInstanceOf(ApnsClientFactory);
    await bare.close();
  });
});
