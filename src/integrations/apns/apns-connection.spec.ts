import { connect as http2Connect, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createTestPki, type PassCertificate, type TestPki } from '../../../test/support/certs';
import { startFakeApns, type FakeApns } from '../../../test/support/fake-apns';
import {
  ApnsConnection,
  ApnsError,
  toApnsError,
  type ApnsConnectionOptions,
  type ApnsResponse,
} from './apns-connection';
import { classifyApnsResponse } from './apns-result';

const TOKEN = 'a1b2c3d4'.repeat(8);
const token = (n: number) => n.toString(16).padStart(64, '0');

async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function rejection(promise: Promise<unknown>): Promise<ApnsError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApnsError);
    return err as ApnsError;
  }
  throw new Error('expected the push to be rejected');
}

describe('ApnsConnection against the fake APNs', () => {
  let pki: TestPki;
  let pass: PassCertificate;
  let server: { certPem: string; keyPem: string };
  const fakes: FakeApns[] = [];
  const connections: ApnsConnection[] = [];

  beforeAll(() => {
    pki = createTestPki();
    pass = pki.issuePassCertificate({
      passTypeIdentifier: 'pass.com.example.voucher',
      teamIdentifier: 'TEAM123456',
    });
    server = pki.issueServerCertificate(['localhost', '127.0.0.1']);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await Promise.all(fakes.map((f) => f.close()));
    pki.cleanup();
  });

  async function fake(maxConcurrentStreams?: number): Promise<FakeApns> {
    const f = await startFakeApns({
      certPem: server.certPem,
      keyPem: server.keyPem,
      caPem: [pki.wwdr.certPem, pki.root.certPem],
      maxConcurrentStreams,
    });
    fakes.push(f);
    return f;
  }

  function client(f: FakeApns, extra: Partial<ApnsConnectionOptions> = {}, cert: PassCertificate = pass) {
    const c = new ApnsConnection({
      url: f.url,
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
      passphrase: cert.privateKeyPassphrase,
      caPem: pki.root.certPem,
      ...extra,
    });
    connections.push(c);
    return c;
  }

  it('sends an empty background push for the topic, authenticated by the pass certificate', async () => {
    const f = await fake();
    const c = client(f);

    const res = await c.send(TOKEN, 'pass.com.example.voucher');

    expect(res.status).toBe(200);
    expect(res.reason).toBeUndefined();
    expect(res.apnsId).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.pushes).toHaveLength(1);
    const push = f.pushes[0]!;
    expect(push).toMatchObject({
      token: TOKEN,
      topic: 'pass.com.example.voucher',
      pushType: 'background',
      priority: '5',
      contentType: 'application/json',
      body: '{}',
      status: 200,
    });
    expect(push.clientCertSubject?.UID).toBe('pass.com.example.voucher');
    expect(push.clientCertSubject?.OU).toBe('TEAM123456');
    expect(c.stats).toMatchObject({ sent: 1, responses: 1, failed: 0, connects: 1, queued: 0 });
  });

  it('reuses one connection for many pushes and works with an encrypted private key', async () => {
    const f = await fake();
    const encrypted = pki.issuePassCertificate({
      passTypeIdentifier: 'pass.com.example.locked',
      passphrase: 's3cret',
    });
    const c = client(f, {}, encrypted);

    const results = await Promise.all([1, 2, 3].map((n) => c.send(token(n), 'pass.com.example.locked')));

    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(f.sessionsAccepted).toBe(1);
    expect(f.pushes.map((p) => p.token).sort()).toEqual([token(1), token(2), token(3)]);
  });

  it('answers malformed tokens and topics locally, like APNs would, without a request', async () => {
    const f = await fake();
    const c = client(f);

    await expect(c.send('not-hex', 'pass.com.example.voucher')).resolves.toEqual({
      status: 400,
      reason: 'BadDeviceToken',
    });
    await expect(c.send('ab'.repeat(31), 'pass.com.example.voucher')).resolves.toEqual({
      status: 400,
      reason: 'BadDeviceToken',
    });
    await expect(c.send('a'.repeat(201), 'pass.com.example.voucher')).resolves.toMatchObject({ status: 400 });
    await expect(c.send(TOKEN, '')).resolves.toEqual({ status: 400, reason: 'MissingTopic' });
    await expect(c.send(TOKEN, 'pass.bad\ntopic')).resolves.toEqual({ status: 400, reason: 'BadTopic' });

    expect(f.count).toBe(0);
    expect(c.stats.connects).toBe(0);
  });

  it('surfaces APNs error statuses with their reasons and classifies them', async () => {
    const f = await fake();
    const c = client(f);
    f.respondWith(
      TOKEN,
      { status: 410, reason: 'Unregistered', timestamp: 1_700_000_000_000 },
      { status: 400, reason: 'BadDeviceToken' },
      { status: 429, reason: 'TooManyRequests' },
      { status: 500, reason: 'InternalServerError' },
      { status: 503, reason: 'ServiceUnavailable' },
      { status: 403, reason: 'BadCertificate' },
      { status: 400, reason: 'DeviceTokenNotForTopic' },
      { status: 413, reason: 'PayloadTooLarge' },
    );

    const results = [];
    for (let i = 0; i < 9; i++) results.push(await c.send(TOKEN, 'pass.com.example.voucher'));

    expect(results.map((r) => [r.status, r.reason])).toEqual([
      [410, 'Unregistered'],
      [400, 'BadDeviceToken'],
      [429, 'TooManyRequests'],
      [500, 'InternalServerError'],
      [503, 'ServiceUnavailable'],
      [403, 'BadCertificate'],
      [400, 'DeviceTokenNotForTopic'],
      [413, 'PayloadTooLarge'],
      [200, undefined],
    ]);
    expect(results[0]!.timestamp).toBe(1_700_000_000_000);
    expect(results.map((r) => classifyApnsResponse(r))).toEqual([
      'unregistered',
      'unregistered',
      'retry',
      'retry',
      'retry',
      'certificate',
      'configuration',
      'bug',
      'delivered',
    ]);
  });

  it('gets TopicDisallowed when the topic is not the certificate’s pass type id', async () => {
    const f = await fake();
    const c = client(f);

    const res = await c.send(TOKEN, 'pass.com.other.team');

    expect(res).toMatchObject({ status: 400, reason: 'TopicDisallowed' });
    expect(classifyApnsResponse(res)).toBe('configuration');
  });

  it('sendAll reports every token’s outcome once, locally refused ones included, then resolves', async () => {
    const f = await fake(50);
    const c = client(f);
    const tokens = Array.from({ length: 300 }, (_, i) => token(i + 1));
    f.respondWith(tokens[7]!, { status: 410, reason: 'Unregistered', timestamp: 1_700_000_000_000 });
    f.respondWith(tokens[8]!, { status: 500, reason: 'InternalServerError' });
    const outcomes = new Map<string, ApnsResponse | ApnsError>();
    let repeated = 0;
    await c.sendAll([...tokens, 'not-a-token'], 'pass.com.example.voucher', (t, result) => {
      if (outcomes.has(t)) repeated++;
      outcomes.set(t, result);
    });
    expect(repeated).toBe(0);
    expect(outcomes.size).toBe(301);
    expect(outcomes.get('not-a-token')).toEqual({ status: 400, reason: 'BadDeviceToken' });
    expect(outcomes.get(tokens[7]!)).toMatchObject({ status: 410, reason: 'Unregistered' });
    expect(outcomes.get(tokens[8]!)).toMatchObject({ status: 500, reason: 'InternalServerError' });
    const ok = [...outcomes.values()].filter((r) => !(r instanceof ApnsError) && r.status === 200);
    expect(ok).toHaveLength(298);
    expect(f.maxObservedConcurrency).toBeLessThanOrEqual(50);
    await expect(c.sendAll([], 'pass.com.example.voucher', () => undefined)).resolves.toBeUndefined();
  });

  it('sendAll hands every token an ApnsError when the connection cannot be made', async () => {
    const f = await fake();
    const url = f.url;
    await f.close();
    fakes.splice(fakes.indexOf(f), 1);
    const c = new ApnsConnection({
      url,
      certificatePem: pass.certificatePem,
      privateKeyPem: pass.privateKeyPem,
      caPem: pki.root.certPem,
    });
    connections.push(c);
    const kinds: string[] = [];
    await c.sendAll([token(1), token(2), token(3)], 'pass.com.example.voucher', (_t, result) => {
      kinds.push(result instanceof ApnsError ? result.kind : String(result.status));
    });
    expect(kinds).toEqual(['connection', 'connection', 'connection']);
  });

  it('keeps at most the server’s maxConcurrentStreams in flight and queues the rest', async () => {
    const f = await fake(5);
    f.setDelayMs(3);
    const c = client(f);
    let clientMax = 0;

    const all = Array.from({ length: 200 }, (_, i) =>
      c.send(token(i), 'pass.com.example.voucher').then((r) => {
        clientMax = Math.max(clientMax, c.stats.inFlight);
        return r;
      }),
    );
    expect(c.stats.queued).toBe(200);
    const results = await Promise.all(all);

    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(f.count).toBe(200);
    expect(f.maxObservedConcurrency).toBeLessThanOrEqual(5);
    expect(f.maxObservedConcurrency).toBeGreaterThan(1);
    expect(clientMax).toBeLessThanOrEqual(5);
    expect(c.stats.streamLimit).toBe(5);
    expect(c.stats).toMatchObject({ sent: 200, responses: 200, queued: 0, connects: 1 });
  });

  it('applies its own stream cap below the server’s', async () => {
    const f = await fake(100);
    f.setDelayMs(3);
    const c = client(f, { maxConcurrentStreams: 3 });

    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => c.send(token(i), 'pass.com.example.voucher')),
    );

    expect(results.filter((r) => r.status === 200)).toHaveLength(60);
    expect(f.maxObservedConcurrency).toBe(3);
    expect(c.stats.streamLimit).toBe(3);
  });

  it('reconnects after GOAWAY mid-run: streams in flight finish, the rest go to a new session', async () => {
    const f = await fake(5);
    f.setDelayMs(20);
    const c = client(f);

    const all = Array.from({ length: 50 }, (_, i) => c.send(token(i), 'pass.com.example.voucher'));
    await waitFor(() => f.count >= 10, '10 pushes');
    f.goAwayAll();
    const results = await Promise.all(all);

    expect(results.filter((r) => r.status === 200)).toHaveLength(50);
    expect(f.sessionsAccepted).toBe(2);
    expect(c.stats.connects).toBe(2);
    await expect(c.send(TOKEN, 'pass.com.example.voucher')).resolves.toMatchObject({ status: 200 });
    expect(new Set(f.pushes.map((p) => p.token)).size).toBe(51);
  });

  it('retries streams lost with a dropped connection once, on a new connection', async () => {
    const f = await fake();
    f.setDelayMs(50);
    const c = client(f);

    const all = Array.from({ length: 10 }, (_, i) => c.send(token(i), 'pass.com.example.voucher'));
    await waitFor(() => f.count === 10, 'pushes to arrive');
    f.dropConnections();
    const results = await Promise.all(all);

    expect(results.map((r) => r.status)).toEqual(Array<number>(10).fill(200));
    expect(c.stats.connects).toBe(2);
    expect(c.stats.sent).toBe(20);
    expect(f.count).toBe(20);
  });

  it('rejects with a retryable timeout when APNs is slower than the request timeout, then carries on', async () => {
    const f = await fake();
    const c = client(f, { requestTimeoutMs: 100 });
    f.setDelayMs(400);

    const started = Date.now();
    const err = await rejection(c.send(TOKEN, 'pass.com.example.voucher'));

    expect(Date.now() - started).toBeLessThan(350);
    expect(err.kind).toBe('timeout');
    expect(err.retryable).toBe(true);
    expect(classifyApnsResponse(err)).toBe('retry');
    expect(c.stats.timeouts).toBe(1);
    await waitFor(() => c.stats.inFlight === 0, 'the cancelled stream to close');

    f.setDelayMs(0);
    await expect(c.send(TOKEN, 'pass.com.example.voucher')).resolves.toMatchObject({ status: 200 });
    expect(c.stats.connects).toBe(1);
  });

  it('fails fast with a typed error when the server refuses a certificate from an unknown CA', async () => {
    const f = await fake();
    const otherPki = createTestPki();
    try {
      const foreign = otherPki.issuePassCertificate({ passTypeIdentifier: 'pass.com.example.voucher' });
      const c = client(f, {}, foreign);

      const started = Date.now();
      const results = await Promise.allSettled(
        [1, 2, 3].map((n) => c.send(token(n), 'pass.com.example.voucher')),
      );

      expect(Date.now() - started).toBeLessThan(3000);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as ApnsError;
        expect(err).toBeInstanceOf(ApnsError);
        expect(err.kind).toBe('connection');
        expect(err.message).toMatch(/before it was established/);
      }
      // Within the reconnect delay no new handshake is attempted.
      const again = await rejection(c.send(TOKEN, 'pass.com.example.voucher'));
      expect(again.kind).toBe('connection');
      expect(c.stats.connects).toBe(1);
      expect(f.count).toBe(0);
    } finally {
      otherPki.cleanup();
    }
  }, 30_000);

  it('has the fake refuse a TLS client without a certificate; the alert maps to tls-rejected', async () => {
    const f = await fake();

    const socketError = await new Promise<Error & { code?: string }>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: f.port,
        ca: pki.root.certPem,
        ALPNProtocols: ['h2'],
      });
      const session = http2Connect(f.url, { createConnection: () => socket });
      session.on('error', () => undefined);
      socket.on('error', (err: Error) => {
        socket.destroy();
        resolve(err);
      });
      const stream = session.request({ ':method': 'POST', ':path': `/3/device/${TOKEN}` });
      stream.on('error', () => undefined);
      stream.end('{}');
    });

    expect(socketError.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    const mapped = toApnsError(socketError);
    expect(mapped.kind).toBe('tls-rejected');
    expect(mapped.retryable).toBe(false);
    expect(classifyApnsResponse(mapped)).toBe('certificate');
    expect(f.count).toBe(0);
  });

  it('rejects with tls-untrusted when the server certificate is not trusted', async () => {
    const f = await fake();
    const c = client(f, { caPem: undefined });

    const err = await rejection(c.send(TOKEN, 'pass.com.example.voucher'));

    expect(err.kind).toBe('tls-untrusted');
    expect(classifyApnsResponse(err)).toBe('configuration');
  });

  it('rejects with a retryable connection error when nothing listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const c = new ApnsConnection({
      url: `https://127.0.0.1:${port}`,
      certificatePem: pass.certificatePem,
      privateKeyPem: pass.privateKeyPem,
      caPem: pki.root.certPem,
      reconnectDelayMs: 0,
    });
    connections.push(c);

    const err = await rejection(c.send(TOKEN, 'pass.com.example.voucher'));

    expect(err.kind).toBe('connection');
    expect(err.retryable).toBe(true);
    expect(classifyApnsResponse(err)).toBe('retry');
  });

  it('gives up connecting after connectTimeoutMs when the server never answers the handshake', async () => {
    // Reads (so it notices the client hanging up) but never answers the TLS ClientHello.
    const silent = createServer((socket) => socket.on('error', () => undefined).resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const c = new ApnsConnection({
        url: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        certificatePem: pass.certificatePem,
        privateKeyPem: pass.privateKeyPem,
        connectTimeoutMs: 200,
      });
      connections.push(c);

      const started = Date.now();
      const err = await rejection(c.send(TOKEN, 'pass.com.example.voucher'));

      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err.kind).toBe('connection');
      expect(err.message).toMatch(/timed out/);
      await c.close();
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses unusable credentials up front with a typed error', () => {
    const build = (over: Partial<ApnsConnectionOptions>) => () =>
      new ApnsConnection({
        url: 'https://127.0.0.1:1',
        certificatePem: pass.certificatePem,
        privateKeyPem: pass.privateKeyPem,
        ...over,
      });

    expect(build({ privateKeyPem: pki.unrelatedKeyPem() })).toThrow(ApnsError);
    expect(build({ certificatePem: 'not a certificate' })).toThrow(/certificate or key unusable/);
    expect(build({ privateKeyPem: '' })).toThrow(ApnsError);
    expect(build({ url: 'http://127.0.0.1:1' })).toThrow(/https/);
    try {
      build({ privateKeyPem: pki.unrelatedKeyPem() })();
    } catch (err) {
      expect((err as ApnsError).kind).toBe('credentials');
      expect(classifyApnsResponse(err as ApnsError)).toBe('certificate');
    }
  });

  it('close() lets streams in flight finish, rejects queued pushes and later sends', async () => {
    const f = await fake();
    f.setDelayMs(50);
    const c = client(f, { maxConcurrentStreams: 1 });

    const first = c.send(token(1), 'pass.com.example.voucher');
    const queued = rejection(c.send(token(2), 'pass.com.example.voucher'));
    await waitFor(() => f.count === 1, 'the first push to arrive');
    const closing = c.close();

    await expect(first).resolves.toMatchObject({ status: 200 });
    expect((await queued).kind).toBe('closed');
    expect((await rejection(c.send(token(3), 'pass.com.example.voucher'))).kind).toBe('closed');
    await closing;
    await waitFor(() => f.openSessions === 0, 'the server to see the session close');
    expect(f.count).toBe(1);
  });
});

describe('fake APNs request checks', () => {
  let pki: TestPki;
  let pass: PassCertificate;
  let f: FakeApns;

  beforeAll(async () => {
    pki = createTestPki();
    pass = pki.issuePassCertificate({ passTypeIdentifier: 'pass.com.example.raw' });
    const server = pki.issueServerCertificate(['localhost', '127.0.0.1']);
    f = await startFakeApns({
      certPem: server.certPem,
      keyPem: server.keyPem,
      caPem: [pki.wwdr.certPem, pki.root.certPem],
    });
  }, 60_000);

  afterAll(async () => {
    await f.close();
    pki.cleanup();
  });

  async function raw(headers: OutgoingHttpHeaders, body?: string): Promise<{ status: number; body: string }> {
    const session = http2Connect(f.url, {
      cert: pass.certificatePem,
      key: pass.privateKeyPem,
      ca: pki.root.certPem,
    });
    try {
      return await new Promise((resolve, reject) => {
        session.on('error', reject);
        const stream = session.request(headers, { endStream: body === undefined });
        let status = 0;
        let text = '';
        stream.on('response', (h: IncomingHttpHeaders) => (status = Number(h[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve({ status, body: text }));
        stream.on('error', reject);
        if (body !== undefined) stream.end(body);
      });
    } finally {
      await new Promise<void>((resolve) => session.close(() => resolve()));
    }
  }

  const topic = { 'apns-topic': 'pass.com.example.raw' };

  const post = (over: OutgoingHttpHeaders = {}): OutgoingHttpHeaders => ({
    ':method': 'POST',
    ':path': `/3/device/${TOKEN}`,
    ...topic,
    ...over,
  });
  const cases: [string, OutgoingHttpHeaders, string | undefined, number, string][] = [
    ['GET', post({ ':method': 'GET' }), undefined, 405, 'MethodNotAllowed'],
    ['wrong path', post({ ':path': `/2/device/${TOKEN}` }), '{}', 404, 'BadPath'],
    ['no token', post({ ':path': '/3/device/' }), '{}', 400, 'MissingDeviceToken'],
    ['non-hex token', post({ ':path': '/3/device/xyz' }), '{}', 400, 'BadDeviceToken'],
    ['no topic', { ':method': 'POST', ':path': `/3/device/${TOKEN}` }, '{}', 400, 'MissingTopic'],
    ['empty body', post(), '', 400, 'PayloadEmpty'],
    ['body not JSON', post(), 'not json', 400, 'BadPayload'],
    ['body over 4 KB', post(), `{"x":"${'x'.repeat(5000)}"}`, 413, 'PayloadTooLarge'],
    ['priority 7', post({ 'apns-priority': '7' }), '{}', 400, 'BadPriority'],
    ['unknown push type', post({ 'apns-push-type': 'x' }), '{}', 400, 'InvalidPushType'],
  ];

  it.each(cases)('answers a request with %s as APNs does', async (_label, headers, body, status, reason) => {
    const res = await raw(headers, body);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toEqual({ reason });
  });

  it('accepts a well-formed push and records it', async () => {
    const before = f.count;
    const res = await raw({ ':method': 'POST', ':path': `/3/device/${TOKEN}`, ...topic }, '{"aps":{}}');
    expect(res).toEqual({ status: 200, body: '' });
    expect(f.count).toBe(before + 1);
    expect(f.pushes.at(-1)).toMatchObject({ token: TOKEN, body: '{"aps":{}}', status: 200 });
  });
});
