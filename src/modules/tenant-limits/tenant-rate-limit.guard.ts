import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthenticatedRequest } from '../../common/auth/auth.decorators';
import { DomainError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { AppleRateLimiter, RateLimitSubject } from '../apple-web-service/apple-rate-limiter';

const LINKS_ROUTE = '/pers/v1/urls';
const MANAGEMENT_PREFIX = '/api/v1/';

/**
 * Per-tenant limits, so that one tenant cannot starve the others: `/pers/v1/urls` counts the URLs
 * asked for (the items of a batch, at least 1 per request) against TENANT_RATE_LIMIT_LINK_URLS per
 * minute, and every management request `/api/v1/**` counts 1 against TENANT_RATE_LIMIT_API per
 * minute. Over a limit: 429 RATE_LIMITED with Retry-After, before the handler does any work.
 *
 * A global guard registered after the authentication guard, so it reads the tenant however the
 * request authenticated (API key or console session) and never touches unauthenticated routes.
 * Decided in memory by the same fixed-window limiter as the Apple web service (its own instance
 * and counters, summed across replicas through Redis), so it adds no round trip.
 */
@Injectable()
export class TenantRateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: AppleRateLimiter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const tenantId = req.tenantId;
    if (tenantId === undefined) return true;
    const route = req.routeOptions.url ?? '';
    let subject: RateLimitSubject;
    let cost = 1;
    if (route === LINKS_ROUTE) {
      subject = { kind: 'tenant-urls', id: tenantId, limit: this.config.tenantRateLimitLinkUrls };
      const items = (req.body as { requests?: unknown } | undefined)?.requests;
      if (Array.isArray(items) && items.length > 1) cost = items.length;
    } else if (route.startsWith(MANAGEMENT_PREFIX)) {
      subject = { kind: 'tenant-api', id: tenantId, limit: this.config.tenantRateLimitApi };
    } else {
      return true;
    }
    const verdict = this.limiter.check([subject], Date.now(), cost);
    if (!verdict.allowed) {
      throw new DomainError(
        'RATE_LIMITED',
        subject.kind === 'tenant-urls'
          ? `This tenant asked for more than ${subject.limit} links in a minute; retry after ${verdict.retryAfterSeconds} s`
          : `This tenant made more than ${subject.limit} API requests in a minute; retry after ${verdict.retryAfterSeconds} s`,
        undefined,
        { 'Retry-After': String(verdict.retryAfterSeconds) },
      );
    }
    return true;
  }
}
