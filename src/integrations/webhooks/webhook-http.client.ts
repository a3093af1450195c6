import { Inject, Injectable } from '@nestjs/common';
import { LookupAddress, promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, LookupFunction } from 'node:net';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { forbiddenAddressReason } from './address-policy';
import { webhookSignature } from './webhook-signature';

export type VettedTarget = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string };

/** Resolves a host name to its addresses. Its own class so tests can answer for any name. */
@Injectable()
export class WebhookResolver {
  async resolve(hostname: string): Promise<LookupAddress[]> {
    const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const family = isIP(literal);
    if (family !== 0) return [{ address: literal, family }];
    return dns.lookup(hostname, { all: true, verbatim: true });
  }
}

export interface WebhookSendResult {
  /** The HTTP status answered, when there was an answer. */
  statusCode?: number;
  durationMs: number;
  /** Why there was no usable answer (refused target, timeout, connection error). */
  error?: string;
  /** The target was refused by the address policy (nothing was sent). */
  refused?: boolean;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Sends webhook requests without following redirects, to the very address it vetted: the host
 * is resolved once, every answer checked against the address policy, and the connection is made
 * through a `lookup` that returns that address (no second resolution, so no DNS-rebinding window).
 * TLS still verifies the certificate against the URL's host name.
 */
@Injectable()
export class WebhookHttpClient {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly resolver: WebhookResolver,
  ) {}

  /** Resolves the URL's host and says whether a webhook may connect to it. */
  async vet(url: URL): Promise<VettedTarget> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { ok: false, reason: 'only http and https URLs are allowed' };
    }
    let answers: LookupAddress[];
    try {
      answers = await this.resolver.resolve(url.hostname);
    } catch {
      return { ok: false, reason: `the host ${url.hostname} does not resolve` };
    }
    const first = answers[0];
    if (!first) return { ok: false, reason: `the host ${url.hostname} does not resolve` };
    if (!this.config.webhookAllowPrivateTargets) {
      for (const a of answers) {
        const reason = forbiddenAddressReason(a.address);
        if (reason) return { ok: false, reason: `the host resolves to a ${reason} address` };
      }
    }
    return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  async send(rawUrl: string, secret: string, body: string, eventId: string): Promise<WebhookSendResult> {
    const started = performance.now();
    const url = new URL(rawUrl);
    const target = await this.vet(url);
    if (!target.ok) return { durationMs: 0, error: `target refused: ${target.reason}`, refused: true };
    const signature = webhookSignature(secret, Math.floor(Date.now() / 1000), body);
    const lookup: LookupFunction = (_host, options, callback) => {
      if (options.all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [
          { address: target.address, family: target.family },
        ]);
      } else callback(null, target.address, target.family);
    };
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<WebhookSendResult>((resolve) => {
      let settled = false;
      const finish = (r: Omit<WebhookSendResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve({ ...r, durationMs: Math.round(performance.now() - started) });
      };
      const req = transport.request(
        url,
        {
          method: 'POST',
          lookup,
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'wallet-service-webhooks/1',
            'wallet-signature': signature,
            'wallet-event-id': eventId,
          },
        },
        (res) => {
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > MAX_RESPONSE_BYTES) res.destroy();
          });
          const done = () => finish({ statusCode: res.statusCode });
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      const deadline = setTimeout(() => {
        req.destroy();
        finish({ error: `no answer within ${this.config.webhookTimeoutMs} ms` });
      }, this.config.webhookTimeoutMs);
      req.on('error', (err) => finish({ error: describe(err) }));
      req.end(body);
    });
  }
}

function describe(err: Error & { code?: string }): string {
  return err.code ? `connection failed (${err.code})` : 'connection failed';
}
