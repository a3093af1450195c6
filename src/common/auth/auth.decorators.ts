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

/** Tenant roles, weakest first: viewers read, editors change campaigns and passes, admins everything. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const MIN_ROLE = 'wallet:min-role';

/**
 * The weakest role a tenant route accepts. Without it: `viewer` for GET/HEAD, `editor` for every
 * other method. API keys act as `admin`.
 */
export const MinRole = (role: Role) => SetMetadata(MIN_ROLE, role);

export function roleAtLeast(actual: Role, needed: Role): boolean {
  return ROLES.indexOf(actual) >= ROLES.indexOf(needed);
}

export interface AuthenticatedRequest extends FastifyRequest {
  tenantId?: string;
  apiKeyId?: string;
  /** Set when the request authenticated with a console session cookie. */
  userId?: string;
  sessionIdHash?: Buffer;
  role?: Role;
}

/** The tenant resolved from the API key; only on tenant-authenticated routes. */
export const TenantId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!req.tenantId) throw new Error('TenantId used on a route without tenant authentication');
  return req.tenantId;
});

/** The signed-in user of a session-authenticated request (undefined for API keys). */
export const SessionUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): { userId: string; sessionIdHash: Buffer } | undefined => {
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    return req.userId && req.sessionIdHash
      ? { userId: req.userId, sessionIdHash: req.sessionIdHash }
      : undefined;
  },
);

export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
