/**
 * A minimal HTTP/1.1 keep-alive client over one TCP socket, for load generators: the request is
 * written as one prepared string or buffer, the response is parsed just enough (status line,
 * Content-Length or chunked framing) to know where it ends. node:http's client spends ~80-200 µs
 * of CPU per request on this VM, as much as the server under test; this spends a fraction of it,
 * so the load generator takes less of the machine's two cores from the app it measures.
 *
 * One request at a time per connection (no pipelining). Only what the benchmarks need: no
 * redirects, no compression, no trailers beyond skipping them.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** The start of the head and body (up to 4 KiB), kept only when `keepSample` said so. */
  sample?: string;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export function buildRequest(
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body?: Buffer | string,
): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (payload) head += `content-length: ${payload.length}\r\n`;
  head += '\r\n';
  return payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : Buffer.from(head, 'latin1');
}

export class RawHttpConnection {
  private readonly socket: Socket;
  private readonly ready: Promise<void>;
  private pending:
    | { resolve: (r: RawResponse) => void; reject: (e: Error) => void; keepSample: boolean; head: boolean }
    | undefined;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Parsed head of the response in progress. */
  private status = 0;
  private bodyStart = -1;
  private contentLength = -1;
  private chunked = false;
  private closedError: Error | undefined;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  /** Sends one prepared request; `head` marks a HEAD request (a body is never sent for it). */
  async request(bytes: Buffer, opts: { keepSample?: boolean; head?: boolean } = {}): Promise<RawResponse> {
    await this.ready;
    if (this.closedError) throw this.closedError;
    if (this.pending) throw new Error('one request at a time per connection');
    return new Promise<RawResponse>((resolve, reject) => {
      this.pending = { resolve, reject, keepSample: opts.keepSample ?? false, head: opts.head ?? false };
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  private onData(chunk: Buffer): void {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (!this.pending) return;
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    this.buffered = [all];
    if (this.bodyStart < 0 && !this.parseHead(all)) return;
    const end = this.responseEnd(all);
    if (end < 0) return;
    const p = this.pending;
    this.pending = undefined;
    const rest = all.subarray(end);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    const response: RawResponse = {
      status: this.status,
      bytes: end - this.bodyStart,
      sample: p.keepSample ? all.subarray(0, Math.min(end, 4096)).toString('utf8') : undefined,
    };
    this.bodyStart = -1;
    p.resolve(response);
  }

  /** Parses the status line and framing headers once the head is complete. */
  private parseHead(all: Buffer): boolean {
    const headEnd = all.indexOf(CRLF2);
    if (headEnd < 0) return false;
    const head = all.toString('latin1', 0, headEnd);
    this.status = Number(head.slice(9, 12));
    this.bodyStart = headEnd + 4;
    this.contentLength = 0;
    this.chunked = false;
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).toLowerCase();
      if (name === 'content-length') this.contentLength = Number(line.slice(colon + 1).trim());
      else if (name === 'transfer-encoding' && line.toLowerCase().includes('chunked')) this.chunked = true;
    }
    const noBody =
      this.pending!.head ||
      this.status === 204 ||
      this.status === 304 ||
      (this.status >= 100 && this.status < 200);
    if (noBody) {
      this.contentLength = 0;
      this.chunked = false;
    }
    return true;
  }

  /** Offset just past the response, or -1 while incomplete. */
  private responseEnd(all: Buffer): number {
    if (!this.chunked) {
      const end = this.bodyStart + this.contentLength;
      return all.length >= end ? end : -1;
    }
    let at = this.bodyStart;
    for (;;) {
      const lineEnd = all.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0) return -1;
      const size = parseInt(all.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('malformed chunked response');
      if (size === 0) {
        const trailerEnd = all.indexOf(CRLF2, lineEnd);
        return trailerEnd >= 0 ? trailerEnd + 4 : -1;
      }
      at = lineEnd + 2 + size + 2;
      if (at > all.length) return -1;
    }
  }
}
