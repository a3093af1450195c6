import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export type AuthMode = 'tenant' | 'tenant-cached' | 'admin' | 'public';
export const AUTH_MODE = 'wallet:auth-mode';

/**
 * Every route is tenant-authenticated unless it says otherwise. `tenant-cached` may trust a
 * recently verified key for a few seconds (hot paths); `public` routes authenticate themselves
 * (signed links, Apple's ApplePass tokens) or serve public data.
 */
export const Auth = (mode: AuthMode) => SetMetadata(AUTH_MODE, mode);

export interface AuthenticatedRequest extends FastifyRequest {
  tenantId?: string;
  apiKeyId?: string;
}

/** The tenant resolved from the API key; only on tenant-authenticated routes. */
export const TenantId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!req.tenantId) throw new Error('TenantId used on a route without tenant authentication');
  return req.tenantId;
});

export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
