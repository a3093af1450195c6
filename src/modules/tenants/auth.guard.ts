import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import {
  AUTH_MODE,
  AuthenticatedRequest,
  AuthMode,
  bearerToken,
  MIN_ROLE,
  Role,
  roleAtLeast,
} from '../../common/auth/auth.decorators';
import { DomainError } from '../../common/errors';
import { sessionCookie } from '../auth/session-cookie';
import { SessionsService } from '../auth/sessions.service';
import { constantTimeEquals } from './api-key.format';
import { ApiKeysService } from './api-keys.service';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Global guard: secure by default — a route without `@Auth(...)` needs a tenant API key
 * (`Authorization: Bearer`, acting as admin) or a console session cookie (acting with the user's
 * role). Cookie requests that change state also need the session's CSRF token in `X-CSRF-Token`
 * and, when the browser sends `Origin`, an origin of this service. Then the route's `@MinRole`
 * (default: viewer for reads, editor for writes) decides.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly publicOrigin: string;

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly sessions: SessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.publicOrigin = new URL(config.publicBaseUrl).origin;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const mode = this.reflector.getAllAndOverride<AuthMode | undefined>(AUTH_MODE, targets) ?? 'tenant';
    if (mode === 'public') return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(req);

    if (mode === 'admin') {
      if (!this.config.platformAdminToken) {
        throw new DomainError(
          'FORBIDDEN',
          'Tenant creation is disabled: PLATFORM_ADMIN_TOKEN is not configured',
        );
      }
      if (!token || !constantTimeEquals(token, this.config.platformAdminToken)) {
        throw new DomainError(
          'UNAUTHORIZED',
          'A valid platform admin token is required (Authorization: Bearer <token>)',
        );
      }
      return true;
    }

    let role: Role;
    if (token) {
      const principal = await this.apiKeys.authenticate(token, mode === 'tenant-cached');
      if (!principal) throw new DomainError('UNAUTHORIZED', 'Invalid or revoked API key');
      req.tenantId = principal.tenantId;
      req.apiKeyId = principal.apiKeyId;
      role = 'admin';
    } else {
      const cookie = sessionCookie(req);
      if (!cookie) {
        throw new DomainError(
          'UNAUTHORIZED',
          'Missing credentials: an API key (Authorization: Bearer <api key>) or a console session',
        );
      }
      const session = await this.sessions.resolve(cookie);
      if (!session) throw new DomainError('UNAUTHORIZED', 'The session has ended; sign in again');
      if (!SAFE_METHODS.has(req.method)) this.checkCsrf(req, session.csrfToken);
      req.tenantId = session.tenantId;
      req.userId = session.userId;
      req.sessionIdHash = session.idHash;
      role = session.role;
    }
    req.role = role;
    req.log = req.log.child({ tenantId: req.tenantId });

    const needed =
      this.reflector.getAllAndOverride<Role | undefined>(MIN_ROLE, targets) ??
      (SAFE_METHODS.has(req.method) ? 'viewer' : 'editor');
    if (!roleAtLeast(role, needed)) {
      throw new DomainError('FORBIDDEN_ROLE', `This needs the ${needed} role; you are ${role}`);
    }
    return true;
  }

  private checkCsrf(req: AuthenticatedRequest, expected: string): void {
    const header = req.headers['x-csrf-token'];
    const given = Array.isArray(header) ? header[0] : header;
    if (!SessionsService.csrfMatches(expected, given)) {
      throw new DomainError('CSRF_REJECTED', 'Missing or wrong X-CSRF-Token header');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin, req.headers.host)) {
      throw new DomainError('CSRF_REJECTED', 'Request from another origin');
    }
  }

  /** PUBLIC_BASE_URL's origin, or the origin the request itself was sent to (same host). */
  private originAllowed(origin: string, host: string | undefined): boolean {
    if (origin === this.publicOrigin) return true;
    try {
      const u = new URL(origin);
      return (u.protocol === 'http:' || u.protocol === 'https:') && host !== undefined && u.host === host;
    } catch {
      return false;
    }
  }
}
