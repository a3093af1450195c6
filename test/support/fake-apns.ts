import { randomUUID } from 'node:crypto';
import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Certificate, TLSSocket } from 'node:tls';

/**
 * A local APNs provider endpoint speaking the real protocol: HTTP/2 over TLS with a mandatory client
 * certificate, `POST /3/device/<token>`, Apple's status codes and `{"reason": ...}` bodies. Tests
 * point the real ApnsConnection at it; it records every push and can be scripted per token.
 */
export interface FakeApnsOptions {
  /** Server TLS certificate and key (issued for localhost / 127.0.0.1). */
  certPem: string;
  keyPem: string;
  /** CA certificate(s) that issued the client (Pass Type ID) certificates. */
  caPem: string | string[];
  /** Advertised SETTINGS_MAX_CONCURRENT_STREAMS; Node's default (unlimited) when left out. */
  maxConcurrentStreams?: number;
  /** Keep a RecordedPush per request (default true); benchmarks switch it off and read `count`. */
  recordPushes?: boolean;
}

export interface ScriptedResponse {
  status: number;
  reason?: string;
  /** Milliseconds since the epoch; APNs sends it with 410. Defaults to "now" for 410. */
  timestamp?: number;
}

export interface RecordedPush {
  token: string;
  topic: string | undefined;
  pushType: string | undefined;
  priority: string | undefined;
  contentType: string | undefined;
  body: string;
  /** Subject of the TLS client certificate the push arrived on (UID = pass type id). */
  clientCertSubject: Certificate | undefined;
  /** Status the fake answered with. */
  status: number;
  reason: string | undefined;
  time: number;
}

export interface FakeApns {
  url: string;
  port: number;
  pushes: RecordedPush[];
  /** Requests answered so far (also counted when recording is off). */
  readonly count: number;
  /** Highest number of streams open at once since start or the last resetStats(). */
  readonly maxObservedConcurrency: number;
  readonly openSessions: number;
  /** Sessions accepted so far (a reconnect shows up as +1). */
  readonly sessionsAccepted: number;
  /**
   * Queue responses for one token (or '*' for any token without its own script). Each request
   * consumes one; once a queue is empty the answer is 200.
   */
  respondWith(token: string, ...responses: ScriptedResponse[]): void;
  setDelayMs(ms: number): void;
  /** Send GOAWAY (NO_ERROR) on every session and close them once their streams finish. */
  goAwayAll(): void;
  /** Cut every connection without GOAWAY (a network failure as the client sees it). */
  dropConnections(): void;
  /**
   * While on, every new connection is cut before TLS and open ones are cut too: APNs unreachable
   * as the client sees it. Off again: connections are served as before.
   */
  setUnreachable(on: boolean): void;
  resetStats(): void;
  close(): Promise<void>;
}

const TOKEN_PATH = /^\/3\/device\/([^/?#]*)$/;
const HEX_TOKEN = /^[0-9a-fA-F]{64,200}$/;
const PUSH_TYPES = new Set([
  'alert',
  'background',
  'location',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'pushtotalk',
]);
const PRIORITIES = new Set(['1', '5', '10']);
const MAX_PAYLOAD = 4096;

export async function startFakeApns(opts: FakeApnsOptions): Promise<FakeApns> {
  const record = opts.recordPushes ?? true;
  const pushes: RecordedPush[] = [];
  const scripts = new Map<string, ScriptedResponse[]>();
  const sessions = new Set<ServerHttp2Session>();
  // Raw TLS sockets: Http2Session.socket refuses direct manipulation such as destroy().
  const sockets = new Set<TLSSocket>();
  const subjects = new WeakMap<object, Certificate | undefined>();
  let delayMs = 0;
  let unreachable = false;
  let count = 0;
  let open = 0;
  let maxOpen = 0;
  let accepted = 0;

  const server: Http2SecureServer = createSecureServer({
    cert: opts.certPem,
    key: opts.keyPem,
    ca: opts.caPem,
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
    settings:
      opts.maxConcurrentStreams === undefined ? {} : { maxConcurrentStreams: opts.maxConcurrentStreams },
  });

  server.on('connection', (socket: Socket) => {
    if (unreachable) socket.destroy();
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('session', (session: ServerHttp2Session) => {
    accepted++;
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // A client that hangs up mid-stream is normal here (timeouts, GOAWAY tests).
    session.on('error', () => undefined);
  });

  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    open++;
    if (open > maxOpen) maxOpen = open;
    stream.on('close', () => open--);
    stream.on('error', () => undefined);

    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD + 1) chunks.push(chunk);
    });
    stream.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      const session = stream.session;
      let subject: Certificate | undefined;
      if (session) {
        if (subjects.has(session)) {
          subject = subjects.get(session);
        } else {
          const peer = (session.socket as TLSSocket).getPeerCertificate();
          subject = peer && 'subject' in peer ? peer.subject : undefined;
          subjects.set(session, subject);
        }
      }
      const token = TOKEN_PATH.exec(headers[':path'] ?? '')?.[1] ?? '';
      const answer = judge(headers, token, body, size, subject) ?? nextScripted(token);
      count++;
      if (record) {
        pushes.push({
          token,
          topic: single(headers['apns-topic']),
          pushType: single(headers['apns-push-type']),
          priority: single(headers['apns-priority']),
          contentType: single(headers['content-type']),
          body,
          clientCertSubject: subject,
          status: answer.status,
          reason: answer.reason,
          time: Date.now(),
        });
      }
      const apnsId = single(headers['apns-id']) ?? randomUUID();
      if (delayMs > 0) {
        setTimeout(() => respond(stream, answer, apnsId), delayMs);
      } else {
        respond(stream, answer, apnsId);
      }
    });
  });

  function nextScripted(token: string): ScriptedResponse {
    const own = scripts.get(token);
    if (own && own.length > 0) return own.shift()!;
    const any = scripts.get('*');
    if (any && any.length > 0) return any.shift()!;
    return { status: 200 };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    pushes,
    get count() {
      return count;
    },
    get maxObservedConcurrency() {
      return maxOpen;
    },
    get openSessions() {
      return sessions.size;
    },
    get sessionsAccepted() {
      return accepted;
    },
    respondWith(token, ...responses) {
      const queue = scripts.get(token) ?? [];
      queue.push(...responses);
      scripts.set(token, queue);
    },
    setDelayMs(ms) {
      delayMs = ms;
    },
    goAwayAll() {
      for (const session of sessions) {
        if (session.closed || session.destroyed) continue;
        session.goaway(constants.NGHTTP2_NO_ERROR);
        session.close();
      }
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    setUnreachable(on) {
      unreachable = on;
      if (on) for (const socket of sockets) socket.destroy();
    },
    resetStats() {
      maxOpen = open;
      count = 0;
      pushes.length = 0;
    },
    close() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The checks real APNs applies before looking at the token's state; undefined = well-formed. */
function judge(
  headers: IncomingHttpHeaders,
  token: string,
  body: string,
  size: number,
  subject: Certificate | undefined,
): ScriptedResponse | undefined {
  if (headers[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
  if (!TOKEN_PATH.test(headers[':path'] ?? '')) return { status: 404, reason: 'BadPath' };
  if (token === '') return { status: 400, reason: 'MissingDeviceToken' };
  if (!HEX_TOKEN.test(token)) return { status: 400, reason: 'BadDeviceToken' };
  const topic = single(headers['apns-topic']);
  if (!topic) return { status: 400, reason: 'MissingTopic' };
  const certTopic = subject ? single(subject.UID) : undefined;
  if (certTopic !== undefined && topic !== certTopic) return { status: 400, reason: 'TopicDisallowed' };
  const pushType = single(headers['apns-push-type']);
  if (pushType !== undefined && !PUSH_TYPES.has(pushType)) return { status: 400, reason: 'InvalidPushType' };
  const priority = single(headers['apns-priority']);
  if (priority !== undefined && !PRIORITIES.has(priority)) return { status: 400, reason: 'BadPriority' };
  if (size > MAX_PAYLOAD) return { status: 413, reason: 'PayloadTooLarge' };
  if (size === 0) return { status: 400, reason: 'PayloadEmpty' };
  if (!isJsonObject(body)) return { status: 400, reason: 'BadPayload' };
  return undefined;
}

function isJsonObject(text: string): boolean {
  if (text === '{}') return true;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function respond(stream: ServerHttp2Stream, answer: ScriptedResponse, apnsId: string): void {
  if (stream.closed || stream.destroyed) return;
  if (answer.status === 200) {
    stream.respond({ ':status': 200, 'apns-id': apnsId }, { endStream: true });
    return;
  }
  const payload: { reason?: string; timestamp?: number } = { reason: answer.reason };
  if (answer.timestamp !== undefined) payload.timestamp = answer.timestamp;
  else if (answer.status === 410) payload.timestamp = Date.now();
  stream.respond({ ':status': answer.status, 'apns-id': apnsId, 'content-type': 'application/json' });
  stream.end(JSON.stringify(payload));
}
