import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DomainError } from '../../common/errors';
import { LinkRequestError, validateLinkRequest } from './link-request.validator';
import { LinkTokenCodec, LinkTokenError, VerifiedLinkClaims } from './link-token';

export type LinkResult = { url: string } | { error: LinkRequestError };

/**
 * Signs "Add to Wallet" links. No database read: the campaign is checked when the link is used,
 * so a batch of 1,000 costs only validation and HMACs.
 */
@Injectable()
export class LinksService {
  private readonly codec: LinkTokenCodec;
  private readonly prefix: string;
  /** The prefix as the start of a JSON string literal (opening quote, escaped, no closing quote). */
  private readonly jsonPrefix: string;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    this.codec = new LinkTokenCodec(config.linkSigningKeys);
    this.prefix = `${config.publicBaseUrl}/api/pass/create/`;
    this.jsonPrefix = JSON.stringify(this.prefix).slice(0, -1);
  }

  /**
   * The answer as JSON text, written by hand: the URLs are the JSON-escaped prefix plus a token of
   * base64url characters and dots, so only per-item errors need JSON.stringify (8% of the request
   * cost went to serialising 1,000 small objects).
   */
  generateJson(tenantId: string, body: unknown): string {
    const { urls } = this.generate(tenantId, body);
    let out = '{"urls":[';
    for (let i = 0; i < urls.length; i++) {
      const item = urls[i]!;
      if (i > 0) out += ',';
      out +=
        'url' in item
          ? `{"url":${this.jsonPrefix}${item.url.slice(this.prefix.length)}"}`
          : JSON.stringify(item);
    }
    return out + ']}';
  }

  generate(tenantId: string, body: unknown): { urls: LinkResult[] } {
    const requests = (body as { requests?: unknown } | null)?.requests;
    if (typeof body !== 'object' || body === null || !Array.isArray(requests)) {
      throw DomainError.validation('requests', 'must be an array of link requests');
    }
    if (requests.length > this.config.linkBatchLimit) {
      throw new DomainError(
        'BATCH_TOO_LARGE',
        `requests: at most ${this.config.linkBatchLimit} items per call (got ${requests.length}); split the batch`,
        [{ field: 'requests', message: `at most ${this.config.linkBatchLimit} items` }],
      );
    }
    const now = new Date();
    const nowMs = now.getTime();
    const urls: LinkResult[] = new Array<LinkResult>(requests.length);
    for (let i = 0; i < requests.length; i++) {
      const v = validateLinkRequest(requests[i], i, nowMs);
      urls[i] = v.ok
        ? { url: this.prefix + this.codec.sign({ tenantId, ...v.value }, now) }
        : { error: v.error };
    }
    return { urls };
  }

  /** Verifies a link token; errors become the matching 4xx. */
  verify(token: string): VerifiedLinkClaims {
    try {
      return this.codec.verify(token);
    } catch (err) {
      if (err instanceof LinkTokenError) throw new DomainError(err.code, err.message);
      throw err;
    }
  }
}
