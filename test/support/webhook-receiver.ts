import { readFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
  answered: number;
}

/** A local webhook receiver; `failNext` makes the next n requests answer 500. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Accepted (2xx) events, deduplicated by id as a careful receiver would. */
  accepted: Map<string, ReceivedWebhook>;
  failNext: number;
  /** When set, every request answers this status. */
  alwaysStatus?: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const r: Partial<WebhookReceiver> & {
    received: ReceivedWebhook[];
    accepted: Map<string, ReceivedWebhook>;
  } = {
    received: [],
    accepted: new Map(),
    failNext: 0,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let status = 200;
      if (r.alwaysStatus) status = r.alwaysStatus;
      else if (r.failNext! > 0) {
        r.failNext!--;
        status = 500;
      }
      let json: ReceivedWebhook['json'];
      try {
        json = JSON.parse(body) as ReceivedWebhook['json'];
      } catch {
        json = { id: '', type: '', createdAt: '', data: {} };
      }
      const item = { headers: req.headers, body, json, answered: status };
      r.received.push(item);
      if (status < 300 && !r.accepted.has(json.id)) r.accepted.set(json.id, item);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${port}/hook`;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r as WebhookReceiver;
}

/**
 * The signature check exactly as the README shows it to receivers: the code block after the
 * `webhook-verify-recipe` marker, evaluated as written.
 */
export function readmeVerifier(): (secret: string, header: string, rawBody: string) => boolean {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const m = /<!-- webhook-verify-recipe -->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!m?.[1]) throw new Error('README has no webhook verification recipe');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('require', `${m[1]}\nreturn verifyWalletSignature;`) as (
    req: NodeRequire,
  ) => (secret: string, header: string, rawBody: string) => boolean;
  return make(require);
}
