import { connect, Socket } from 'node:net';
import { startTestApp, TestApp } from './support/test-app';

/** Posts an empty device log with the given X-Forwarded-For and answers the status. */
async function logWithForwardedFor(t: TestApp, forwardedFor: string): Promise<number> {
  const res = await t.request('POST', '/v1/log', {
    body: { logs: [] },
    headers: { 'x-forwarded-for': forwardedFor },
  });
  return res.status;
}

interface SocketOutcome {
  data: string;
  closedAfterMs: number;
}

/**
 * Opens a raw TCP connection, writes `head`, then `trickle` one byte per `everyMs` until the
 * server closes the socket or `giveUpMs` passes. Answers what the server wrote and when it closed.
 */
function trickle(
  url: string,
  head: string,
  trickleBytes: string,
  everyMs: number,
  giveUpMs: number,
): Promise<SocketOutcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = connect(Number(port), hostname);
    let data = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the server still held the connection after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(timer);
      resolve({ data, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => {
      if (head) socket.write(head);
      timer = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        socket.write(trickleBytes[i % trickleBytes.length] ?? 'x');
        i++;
      }, everyMs);
    });
  });
}

describe('client addresses behind proxies (e2e)', () => {
  it('ignores X-Forwarded-For by default: a spoofed address does not escape the per-IP limit', async () => {
    const t = await startTestApp({ APPLE_RATE_LIMIT_PER_IP: '3' });
    try {
      const statuses = [];
      for (let i = 1; i <= 5; i++) statuses.push(await logWithForwardedFor(t, `198.51.100.${i}`));
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await t.close();
    }
  });

  it('believes X-Forwarded-For from TRUSTED_PROXIES=loopback, and limits per forwarded address', async () => {
    const t = await startTestApp({ APPLE_RATE_LIMIT_PER_IP: '3', TRUSTED_PROXIES: 'loopback' });
    try {
      const distinct = [];
      for (let i = 1; i <= 5; i++) distinct.push(await logWithForwardedFor(t, `198.51.100.${i}`));
      expect(distinct).toEqual([200, 200, 200, 200, 200]);
      const same = [];
      for (let i = 1; i <= 4; i++) same.push(await logWithForwardedFor(t, '203.0.113.9'));
      expect(same).toEqual([200, 200, 200, 429]);
    } finally {
      await t.close();
    }
  });

  it('does not believe a proxy outside TRUSTED_PROXIES', async () => {
    const t = await startTestApp({ APPLE_RATE_LIMIT_PER_IP: '2', TRUSTED_PROXIES: '10.0.0.0/8,fd00::/8' });
    try {
      const statuses = [];
      for (let i = 1; i <= 3; i++) statuses.push(await logWithForwardedFor(t, `198.51.100.${i}`));
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await t.close();
    }
  });
});

describe('slow clients (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '500',
      HTTP_IDLE_TIMEOUT_MS: '5000',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('cuts a request whose body trickles in at one byte per second', async () => {
    const head =
      'POST /v1/log HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const out = await trickle(t.url, head, '{"logs":[', 1000, 10_000);
    expect(out.closedAfterMs).toBeGreaterThanOrEqual(1500);
    expect(out.closedAfterMs).toBeLessThan(5000);
    expect(out.data).toMatch(/^HTTP\/1\.1 408/);
    // The service still answers others.
    expect((await t.request('GET', '/health')).status).toBe(200);
  });

  it('cuts a client that sends its headers one byte at a time', async () => {
    const out = await trickle(t.url, '', 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ', 200, 10_000);
    expect(out.closedAfterMs).toBeLessThan(4000);
    expect(out.data).not.toContain('200 OK');
  });

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const request = 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n';
    // One complete request, then silence (the trickle interval never fires before the close).
    const out = await trickle(t.url, request, '', 60_000, 10_000);
    expect(out.data).toMatch(/^HTTP\/1\.1 200/);
    expect(out.closedAfterMs).toBeLessThan(3000);
  });
});

describe('operations endpoints behind METRICS_TOKEN (e2e)', () => {
  const token = 'metrics-token-for-tests-0123456789';
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: token });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers /metrics and /docs only with the token', async () => {
    for (const path of [
      '/metrics',
      '/docs',
      '/docs/openapi.json',
      '/docs/assets/swagger-ui.css',
      '//metrics',
    ]) {
      const anonymous = await t.request('GET', path);
      expect({ path, status: anonymous.status }).toEqual({ path, status: 401 });
      expect(anonymous.body.error.code).toBe('UNAUTHORIZED');
      const wrong = await t.request('GET', path, { token: 'not-the-metrics-token-0000000' });
      expect({ path, status: wrong.status }).toEqual({ path, status: 401 });
      const ok = await t.request('GET', path, { token });
      expect({ path, status: ok.status }).toEqual({ path, status: 200 });
    }
    // Health stays public.
    expect((await t.request('GET', '/health')).status).toBe(200);
  });
});
