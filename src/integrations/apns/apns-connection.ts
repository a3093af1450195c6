import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type Settings,
} from 'node:http2';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  connect as tlsConnect,
  createSecureContext,
  rootCertificates,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';

/** What APNs answered for one push. A 200 carries no reason; errors carry Apple's reason string. */
export interface ApnsResponse {
  status: number;
  reason?: string;
  apnsId?: string;
  /** Milliseconds since the epoch; sent with 410 (when APNs learned the token went inactive). */
  timestamp?: number;
}

/**
 * Why a push got no APNs answer.
 * - `timeout`: no response within the request timeout (the stream is cancelled).
 * - `connection`: the connection could not be made, or died under the request twice.
 * - `tls-rejected`: APNs refused our client certificate during the TLS handshake.
 * - `tls-untrusted`: APNs' server certificate is not trusted (wrong URL or missing CA).
 * - `credentials`: the certificate / private key / passphrase cannot be loaded at all.
 * - `closed`: the connection was closed (shutdown) before the push was sent.
 */
export type ApnsErrorKind =
  'timeout' | 'connection' | 'tls-rejected' | 'tls-untrusted' | 'credentials' | 'closed';

export class ApnsError extends Error {
  override readonly name = 'ApnsError';

  constructor(
    readonly kind: ApnsErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when the same push may succeed later without anyone changing configuration. */
  get retryable(): boolean {
    return this.kind === 'timeout' || this.kind === 'connection' || this.kind === 'closed';
  }
}

export interface ApnsConnectionOptions {
  /** APNs origin, e.g. `https://api.push.apple.com` (Wallet tokens are always production). */
  url: string;
  /** Pass Type ID certificate and its private key: the TLS client identity. */
  certificatePem: string;
  privateKeyPem: string;
  passphrase?: string;
  /** Extra CA certificate(s) to trust besides Node's bundled roots (tests, APNS_CA_FILE). */
  caPem?: string | readonly string[];
  /** Upper bound on streams in flight, applied on top of the server's advertised limit. Default 1000. */
  maxConcurrentStreams?: number;
  /** Per-request deadline from the moment its stream is opened. Default 10 s. */
  requestTimeoutMs?: number;
  /** Deadline for TCP + TLS + the server's first SETTINGS frame. Default 10 s. */
  connectTimeoutMs?: number;
  /** After a failed connect or a refused certificate, pushes fail fast for this long. Default 1 s. */
  reconnectDelayMs?: number;
}

export interface ApnsConnectionStats {
  /** Streams open right now (across the current and any draining session). */
  inFlight: number;
  /** Pushes waiting for a free stream or a connection. */
  queued: number;
  /** Streams opened (a retried push counts twice). */
  sent: number;
  /** Pushes that got an APNs response (any status). */
  responses: number;
  /** Pushes rejected with an ApnsError. */
  failed: number;
  timeouts: number;
  /** Sessions opened, including the first. */
  connects: number;
  /** Stream limit of the current session (server setting capped by maxConcurrentStreams). */
  streamLimit: number;
}

const DEFAULT_MAX_STREAMS = 1000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_RECONNECT_DELAY_MS = 1_000;
const VALID_TOKEN = /^[0-9a-fA-F]{64,200}$/;
const VALID_TOPIC = /^[\x21-\x7e]{1,255}$/;
const EMPTY_JSON_OBJECT = Buffer.from('{}');
const MAX_ERROR_BODY = 8192;

/** OpenSSL alerts a server sends when it does not accept our client certificate. */
const CLIENT_CERT_REFUSED =
  /^ERR_SSL_.*ALERT_(CERTIFICATE_|UNKNOWN_CA|BAD_CERTIFICATE|ACCESS_DENIED|HANDSHAKE_FAILURE)/;
/** Codes Node gives when we do not trust the server's certificate. */
const SERVER_CERT_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface PushRequest {
  /** The caller's token string (kept instead of the path: queued pushes stay small). */
  token: string;
  /** The answer of the current attempt, gathered by the stream handlers. */
  status?: number;
  apnsId?: string;
  body?: Buffer[];
  streamError?: Error;
  topic: string;
  /** Told the push's outcome once (shared by every push of one sendAll). */
  sink: PushSink;
  attempts: number;
  settled: boolean;
  /** While in flight: its stream, session and place in the deadline list. */
  stream?: ClientHttp2Stream;
  state?: SessionState;
  deadline: number;
  prev?: PushRequest;
  next?: PushRequest;
}

interface PushSink {
  settle(token: string, result: ApnsResponse | ApnsError): void;
}

/** The pushes of one sendAll: reports each outcome, resolves when the last one is in. */
class PushGroup implements PushSink {
  private remaining: number;
  private resolveAll!: () => void;
  readonly done: Promise<void>;

  constructor(
    count: number,
    private readonly onResult: (token: string, result: ApnsResponse | ApnsError) => void,
  ) {
    this.remaining = count;
    this.done = new Promise<void>((resolve) => {
      this.resolveAll = resolve;
    });
    if (count === 0) this.resolveAll();
  }

  settle(token: string, result: ApnsResponse | ApnsError): void {
    try {
      this.onResult(token, result);
    } finally {
      if (--this.remaining === 0) this.resolveAll();
    }
  }
}

interface SessionState {
  session: ClientHttp2Session;
  socket: TLSSocket;
  /** TLS is up (the server may still hang up on our certificate). */
  connected: boolean;
  /** The server's SETTINGS arrived: it accepted us and speaks HTTP/2. */
  established: boolean;
  /** Set once GOAWAY arrived or the session started closing: no new streams on it. */
  draining: boolean;
  inFlight: number;
  limit: number;
  error?: Error;
  connectTimer?: NodeJS.Timeout;
  pinging: boolean;
}

/**
 * One long-lived HTTP/2 connection to APNs authenticated by a Pass Type ID certificate.
 *
 * - Streams in flight never exceed the server's SETTINGS_MAX_CONCURRENT_STREAMS (nor
 *   `maxConcurrentStreams`); further pushes wait in a FIFO queue.
 * - The session is opened lazily and reopened on the next push after GOAWAY, a socket error or
 *   close. A push whose stream dies without an answer (refused by GOAWAY, session lost) is retried
 *   once on a fresh session — a duplicate pass-update push is harmless, the device only re-fetches —
 *   and then rejected with a retryable `ApnsError('connection')`.
 * - A failed connect rejects every waiting push, and pushes sent within `reconnectDelayMs` after it
 *   fail fast with the same error (no redial loop; callers back off with `backoffDelay`). A refused
 *   client certificate or an untrusted server rejects with `tls-rejected` / `tls-untrusted`,
 *   never retried.
 * - A token that is not 64–200 hex characters resolves locally as `400 BadDeviceToken` and an
 *   unusable topic as `400 MissingTopic` / `400 BadTopic`, without a request: APNs would answer
 *   the same.
 * - Every request has a deadline (`requestTimeoutMs`) counted from the moment its stream opens;
 *   on expiry the stream is cancelled, the push rejects with `ApnsError('timeout')`, and the
 *   session is pinged so a silently dead connection gets replaced.
 * - The queue is unbounded (~400 bytes per waiting push). A fan-out of 100,000 queued at once
 *   works, but feeding the connection a few thousand at a time keeps a worker's heap far smaller.
 * - The socket is unref'd: an idle connection does not keep the process alive; pending pushes do.
 */
export class ApnsConnection {
  readonly origin: string;
  private readonly host: string;
  private readonly port: number;
  private readonly secureContext: SecureContext;
  private readonly maxStreams: number;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly reconnectDelayMs: number;

  private readonly queue: PushRequest[] = [];
  private queueHead = 0;
  private current: SessionState | undefined;
  private readonly live = new Set<SessionState>();
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private lastFailure: { error: ApnsError; until: number } | undefined;
  private oldest: PushRequest | undefined;
  private newest: PushRequest | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;

  private counters = { inFlight: 0, sent: 0, responses: 0, failed: 0, timeouts: 0, connects: 0 };

  constructor(options: ApnsConnectionOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:')
      throw new ApnsError('credentials', `APNs URL must be https: ${url.origin}`);
    this.origin = url.origin;
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port === '' ? 443 : Number(url.port);
    this.maxStreams = Math.max(1, options.maxConcurrentStreams ?? DEFAULT_MAX_STREAMS);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.reconnectDelayMs = options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS;
    if (!options.certificatePem.trim() || !options.privateKeyPem.trim()) {
      throw new ApnsError('credentials', 'APNs needs the Pass Type ID certificate and its private key');
    }
    const extraCa =
      options.caPem === undefined
        ? []
        : typeof options.caPem === 'string'
          ? [options.caPem]
          : [...options.caPem];
    try {
      // Parsed once here, reused by every reconnect. Passing `ca` replaces Node's root store, so
      // the bundled roots are added back to keep the real api.push.apple.com trusted.
      this.secureContext = createSecureContext({
        cert: options.certificatePem,
        key: options.privateKeyPem,
        passphrase: options.passphrase,
        ca: extraCa.length > 0 ? [...rootCertificates, ...extraCa] : undefined,
        minVersion: 'TLSv1.2',
      });
    } catch (err) {
      throw new ApnsError('credentials', `APNs client certificate or key unusable: ${describe(err)}`, {
        cause: err,
      });
    }
  }

  get stats(): ApnsConnectionStats {
    return {
      ...this.counters,
      queued: this.queue.length - this.queueHead,
      streamLimit: this.current?.limit ?? 0,
    };
  }

  /** Sends an empty background push (`{}`) telling the device to fetch the updated pass. */
  send(pushToken: string, topic: string): Promise<ApnsResponse> {
    return new Promise<ApnsResponse>((resolve, reject) => {
      this.enqueue(pushToken, topic, {
        settle: (_token, result) => (result instanceof ApnsError ? reject(result) : resolve(result)),
      });
    });
  }

  /**
   * Sends one push per token to the same topic and calls `onResult` with each answer (or the
   * ApnsError it failed with) as it comes; resolves once every token has its outcome. The same
   * as `send` per token, without a promise per push: what a fan-out batch uses.
   */
  sendAll(
    tokens: readonly string[],
    topic: string,
    onResult: (token: string, result: ApnsResponse | ApnsError) => void,
  ): Promise<void> {
    const group = new PushGroup(tokens.length, onResult);
    for (const token of tokens) this.enqueue(token, topic, group);
    return group.done;
  }

  /** Queues one push, or settles it at once when it cannot be sent (see the class comment). */
  private enqueue(token: string, topic: string, sink: PushSink): void {
    if (!VALID_TOKEN.test(token)) return sink.settle(token, { status: 400, reason: 'BadDeviceToken' });
    if (topic === '') return sink.settle(token, { status: 400, reason: 'MissingTopic' });
    if (!VALID_TOPIC.test(topic)) return sink.settle(token, { status: 400, reason: 'BadTopic' });
    if (this.closing) return sink.settle(token, new ApnsError('closed', 'APNs connection is closed'));
    const last = this.lastFailure;
    if (last && Date.now() < last.until) {
      return sink.settle(token, new ApnsError(last.error.kind, last.error.message, { cause: last.error }));
    }
    this.queue.push({ token, topic, sink, attempts: 0, settled: false, deadline: 0 });
    this.pump();
  }

  /**
   * Stops accepting pushes, rejects the ones still queued with `ApnsError('closed')`, lets streams
   * in flight finish (each bounded by its timeout) and closes the session(s).
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    const waiting = this.queue.splice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    for (const req of waiting)
      this.fail(req, new ApnsError('closed', 'APNs connection closed before the push was sent'));
    const done = [...this.live].map((state) => this.shutdown(state));
    this.current = undefined;
    this.closePromise = Promise.all(done).then(() => undefined);
    return this.closePromise;
  }

  private shutdown(state: SessionState): Promise<void> {
    const { session, socket } = state;
    if (socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // Streams in flight end by themselves or by their timeout; this only backs up a stuck socket.
      const backstop = setTimeout(() => socket.destroy(), this.requestTimeoutMs + 1000);
      socket.once('close', () => {
        clearTimeout(backstop);
        resolve();
      });
      if (!state.connected || session.destroyed) socket.destroy();
      else session.close();
    });
  }

  private pump(): void {
    while (this.queueHead < this.queue.length) {
      const state = this.usableSession();
      if (!state || !state.connected || state.inFlight >= state.limit) return;
      const req = this.queue[this.queueHead]!;
      this.queue[this.queueHead] = undefined as unknown as PushRequest;
      this.queueHead++;
      this.dispatch(state, req);
    }
    // Reclaim the consumed prefix once it dominates the array.
    if (this.queueHead > 0 && this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private usableSession(): SessionState | undefined {
    if (this.closing) return undefined;
    const state = this.current;
    if (state && !state.draining && !state.session.destroyed && !state.session.closed) return state;
    this.current = this.openSession();
    return this.current;
  }

  private openSession(): SessionState {
    this.counters.connects++;
    // The TLS socket is made here rather than by http2.connect so that it can be destroyed on a TLS
    // alert: Node's http2 session otherwise stays half-dead after some handshake failures.
    const socket = tlsConnect({
      host: this.host,
      port: this.port,
      servername: isIP(this.host) === 0 ? this.host : undefined,
      secureContext: this.secureContext,
      ALPNProtocols: ['h2'],
    });
    socket.setNoDelay(true);
    const session = connect(this.origin, {
      settings: { enablePush: false },
      createConnection: () => socket,
    });
    // Until the server's SETTINGS arrive, one stream at a time (what APNs allows before it knows us).
    const state: SessionState = {
      session,
      socket,
      connected: false,
      established: false,
      draining: false,
      inFlight: 0,
      limit: 1,
      pinging: false,
    };
    socket.on('error', (err: Error) => {
      state.error ??= err;
      state.draining = true;
      socket.destroy();
    });
    this.live.add(state);
    state.connectTimer = setTimeout(() => {
      if (state.established) return;
      state.error ??= new ApnsError('connection', `APNs connect timed out after ${this.connectTimeoutMs} ms`);
      socket.destroy();
    }, this.connectTimeoutMs);

    session.on('connect', () => {
      state.connected = true;
      this.pump();
    });
    session.on('remoteSettings', (settings: Settings) => {
      clearTimeout(state.connectTimer);
      state.established = true;
      const advertised = settings.maxConcurrentStreams ?? this.maxStreams;
      state.limit = Math.max(1, Math.min(this.maxStreams, advertised));
      this.pump();
    });
    session.on('goaway', () => {
      state.draining = true;
      if (this.current === state) this.current = undefined;
      this.pump();
    });
    session.on('error', (err: Error) => {
      state.error ??= err;
    });
    session.on('close', () => {
      clearTimeout(state.connectTimer);
      state.draining = true;
      this.live.delete(state);
      if (this.current === state) this.current = undefined;
      const fatal = state.error ? toApnsError(state.error) : undefined;
      if (!state.established || (fatal && !fatal.retryable)) {
        // Never got a working connection: fail the waiting pushes instead of redialling in a loop.
        this.abandon(fatal ?? notEstablished());
        return;
      }
      this.pump();
    });
    // An idle APNs connection alone must not keep the process alive; pending pushes hold timers.
    session.unref();
    return state;
  }

  private dispatch(state: SessionState, req: PushRequest): void {
    const headers: OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': `/3/device/${req.token}`,
      'apns-topic': req.topic,
      'apns-push-type': 'background',
      'apns-priority': '5',
      'content-type': 'application/json',
    };
    let stream: InFlightStream;
    try {
      stream = state.session.request(headers, REQUEST_OPTIONS);
    } catch (err) {
      // The session went away between the check and the request: try the push on a new one.
      state.draining = true;
      state.error ??= err instanceof Error ? err : new Error(String(err));
      this.retryOrFail(req, state.error, state);
      return;
    }
    req.attempts++;
    req.stream = stream;
    req.state = state;
    req.status = 0;
    req.apnsId = undefined;
    req.body = undefined;
    req.streamError = undefined;
    state.inFlight++;
    this.counters.inFlight++;
    this.counters.sent++;
    this.track(req);
    // Shared handlers (no closures per push): the stream carries its push and its connection.
    stream[PUSH] = req;
    stream[OWNER] = this;
    stream[SESSION] = state;
    stream.on('response', onStreamResponse);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
    stream.end(EMPTY_JSON_OBJECT);
  }

  /** The stream of `req` closed: settle the push (or retry it) and free its slot. (Internal.) */
  streamClosed(req: PushRequest, stream: ClientHttp2Stream, state: SessionState): void {
    this.untrack(req);
    state.inFlight--;
    this.counters.inFlight--;
    const status = req.status ?? 0;
    if (!req.settled) {
      if (status !== 0 && stream.readableEnded) {
        this.counters.responses++;
        req.settled = true;
        req.sink.settle(
          req.token,
          status === 200 ? { status: 200, apnsId: req.apnsId } : errorResponse(status, req.apnsId, req.body),
        );
      } else {
        const cause =
          req.streamError ??
          state.error ??
          new Error(`stream closed with code ${stream.rstCode ?? 'unknown'}`);
        this.retryOrFail(req, cause, state);
      }
    }
    this.pump();
  }

  /**
   * Streams in flight form a list ordered by deadline (all share one timeout), watched by a single
   * timer: cheaper than a timer per push at tens of thousands of pushes per second.
   */
  private track(req: PushRequest): void {
    req.deadline = performance.now() + this.requestTimeoutMs;
    req.prev = this.oldest === undefined ? undefined : this.newest;
    req.next = undefined;
    if (this.newest && this.oldest) this.newest.next = req;
    else this.oldest = req;
    this.newest = req;
    this.deadlineTimer ??= setTimeout(() => this.expire(), this.requestTimeoutMs);
  }

  private untrack(req: PushRequest): void {
    if (req.prev) req.prev.next = req.next;
    else if (this.oldest === req) this.oldest = req.next;
    if (req.next) req.next.prev = req.prev;
    else if (this.newest === req) this.newest = req.prev;
    req.prev = req.next = undefined;
    req.stream = undefined;
    req.state = undefined;
    if (this.oldest === undefined && this.deadlineTimer) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }

  private expire(): void {
    this.deadlineTimer = undefined;
    const now = performance.now();
    let head = this.oldest;
    while (head && head.deadline <= now) {
      const req = head;
      head = head.next;
      const { stream, state } = req;
      this.untrack(req);
      if (!req.settled) {
        this.counters.timeouts++;
        this.fail(req, new ApnsError('timeout', `APNs did not answer within ${this.requestTimeoutMs} ms`));
      }
      // The stream's close handler then frees its slot.
      stream?.close(constants.NGHTTP2_CANCEL);
      if (state) this.probe(state);
    }
    if (this.oldest && !this.deadlineTimer) {
      this.deadlineTimer = setTimeout(() => this.expire(), Math.max(1, this.oldest.deadline - now));
    }
  }

  /** Streams that died without an answer get one more try on a fresh session. */
  private retryOrFail(req: PushRequest, cause: Error, state: SessionState): void {
    let err = toApnsError(cause);
    if (err.retryable && !state.established) err = notEstablished(cause);
    if (this.closing) {
      this.fail(
        req,
        new ApnsError('closed', 'APNs connection closed before the push was answered', { cause }),
      );
    } else if (!err.retryable || !state.established) {
      // A connection that never came up fails everything waiting, it is not redialled per push.
      this.fail(req, err);
      this.abandon(err);
    } else if (req.attempts >= 2) {
      this.fail(req, err);
    } else {
      // Front of the queue: it already waited its turn once.
      if (this.queueHead > 0) this.queue[--this.queueHead] = req;
      else this.queue.unshift(req);
    }
  }

  /**
   * The connection cannot be used: fail everything queued, and for `reconnectDelayMs` fail new
   * pushes at once rather than redial (APNs treats rapid reconnects as abuse).
   */
  private abandon(err: ApnsError): void {
    this.lastFailure = { error: err, until: Date.now() + this.reconnectDelayMs };
    const waiting = this.queue.splice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    for (const req of waiting) this.fail(req, err);
  }

  private fail(req: PushRequest, err: ApnsError): void {
    if (req.settled) return;
    req.settled = true;
    this.counters.failed++;
    req.sink.settle(req.token, err);
  }

  /** After a timeout: if the session does not answer a PING either, drop it so pushes move on. */
  private probe(state: SessionState): void {
    const { session } = state;
    if (state.pinging || session.destroyed || session.closed || !state.connected) return;
    state.pinging = true;
    const deadline = setTimeout(() => {
      session.destroy(new ApnsError('connection', 'APNs session stopped answering PING'));
    }, this.requestTimeoutMs);
    const sent = session.ping((err) => {
      clearTimeout(deadline);
      state.pinging = false;
      if (err && !session.destroyed) session.destroy(err);
    });
    if (!sent) {
      clearTimeout(deadline);
      state.pinging = false;
    }
  }
}

const PUSH = Symbol('push');
const OWNER = Symbol('owner');
const SESSION = Symbol('session');
/** A stream in flight, tagged with its push, connection and session for the shared handlers below. */
type InFlightStream = ClientHttp2Stream & {
  [PUSH]?: PushRequest;
  [OWNER]?: ApnsConnection;
  [SESSION]?: SessionState;
};
const REQUEST_OPTIONS = { endStream: false } as const;

function onStreamResponse(this: InFlightStream, h: IncomingHttpHeaders): void {
  const req = this[PUSH];
  if (!req) return;
  const status = Number(h[':status']);
  req.status = status;
  const id = h['apns-id'];
  req.apnsId = Array.isArray(id) ? id[0] : id;
  if (status === 200) {
    // Success has no body; drain so the stream can end.
    this.resume();
    return;
  }
  this.on('data', onStreamData);
}

function onStreamData(this: InFlightStream, chunk: Buffer): void {
  const req = this[PUSH];
  if (!req) return;
  const body = (req.body ??= []);
  let size = 0;
  for (const b of body) size += b.length;
  if (size < MAX_ERROR_BODY) body.push(chunk);
}

function onStreamError(this: InFlightStream, err: Error): void {
  const req = this[PUSH];
  if (req) req.streamError ??= err;
}

function onStreamClose(this: InFlightStream): void {
  const req = this[PUSH];
  const owner = this[OWNER];
  const state = this[SESSION];
  this[PUSH] = this[OWNER] = this[SESSION] = undefined;
  // A push whose deadline expired was already untracked and settled; its slot is freed here.
  if (req && owner && state) owner.streamClosed(req, this, state);
}

function notEstablished(cause?: unknown): ApnsError {
  return new ApnsError(
    'connection',
    'APNs closed the connection before it was established (client certificate refused, or not an APNs server)',
    { cause },
  );
}

function errorResponse(status: number, apnsId: string | undefined, body: Buffer[] | undefined): ApnsResponse {
  const res: ApnsResponse = { status };
  if (apnsId !== undefined) res.apnsId = apnsId;
  if (body && body.length > 0) {
    try {
      const parsed = JSON.parse(Buffer.concat(body).toString('utf8')) as {
        reason?: unknown;
        timestamp?: unknown;
      };
      if (typeof parsed.reason === 'string') res.reason = parsed.reason;
      if (typeof parsed.timestamp === 'number') res.timestamp = parsed.timestamp;
    } catch {
      // APNs always sends JSON; anything else leaves the reason empty and classifies by status.
    }
  }
  return res;
}

/** Maps socket / TLS / HTTP/2 errors onto the kinds callers act on. */
export function toApnsError(err: unknown): ApnsError {
  if (err instanceof ApnsError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const text = typeof code === 'string' ? code : '';
  if (CLIENT_CERT_REFUSED.test(text)) {
    return new ApnsError('tls-rejected', `APNs refused the client certificate (${text})`, { cause: err });
  }
  if (SERVER_CERT_UNTRUSTED.has(text)) {
    return new ApnsError('tls-untrusted', `APNs server certificate not trusted (${text})`, { cause: err });
  }
  return new ApnsError('connection', `APNs connection failed: ${describe(err)}`, { cause: err });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
