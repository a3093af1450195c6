import type { FastifyInstance, FastifyRequest } from 'fastify';
import { constantTimeEquals } from '../../modules/tenants/api-key.format';

/** Paths that describe the service's internals rather than serve its users. */
const OPERATIONS_PREFIXES = ['/metrics', '/docs'];

/** Judged on the matched route's pattern, so `//metrics` or an encoded path cannot slip by. */
function isOperationsRoute(req: FastifyRequest): boolean {
  const route = req.routeOptions.url;
  if (route === undefined) return false;
  return OPERATIONS_PREFIXES.some((p) => route === p || route.startsWith(`${p}/`));
}

/**
 * With METRICS_TOKEN set, `/metrics` and `/docs` (UI and OpenAPI JSON) answer only to
 * `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise), before any routing work. Without it
 * they stay public, for deployments that keep them off the internet at the load balancer.
 */
export function protectOperationsRoutes(fastify: FastifyInstance, token: string | undefined): void {
  if (!token) return;
  fastify.addHook('onRequest', async (req: FastifyRequest, reply) => {
    if (!isOperationsRoute(req)) return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m?.[1] && constantTimeEquals(m[1], token)) return;
    await reply
      .status(401)
      .header('WWW-Authenticate', 'Bearer')
      .type('application/json; charset=utf-8')
      .send({
        error: {
          code: 'UNAUTHORIZED',
          message: 'This operations endpoint needs Authorization: Bearer <METRICS_TOKEN>',
          correlationId: String(req.id),
        },
      });
  });
}
