import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AUTH_MODE, AuthenticatedRequest, AuthMode, bearerToken } from '../../common/auth/auth.decorators';
import { DomainError } from '../../common/errors';
import { constantTimeEquals } from './api-key.format';
import { ApiKeysService } from './api-keys.service';

/** Global guard: secure by default — a route without `@Auth(...)` needs a tenant API key. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const mode =
      this.reflector.getAllAndOverride<AuthMode | undefined>(AUTH_MODE, [ctx.getHandler(), ctx.getClass()]) ??
      'tenant';
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

    if (!token) throw new DomainError('UNAUTHORIZED', 'Missing API key (Authorization: Bearer <api key>)');
    const principal = await this.apiKeys.authenticate(token, mode === 'tenant-cached');
    if (!principal) throw new DomainError('UNAUTHORIZED', 'Invalid or revoked API key');
    req.tenantId = principal.tenantId;
    req.apiKeyId = principal.apiKeyId;
    req.log = req.log.child({ tenantId: principal.tenantId });
    return true;
  }
}
