import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth } from '../../common/auth/auth.decorators';
import { HealthReport, HealthService, HealthSummary } from './health.service';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @Auth('public')
  @ApiOperation({
    summary: 'Liveness and readiness for load balancers and orchestrators',
    description:
      'Only `{ status }`: `ok`, `degraded` (something needs an operator; see /health/details) or `down` ' +
      '(PostgreSQL or Redis unreachable, answered 503). Nothing about tenants or configurations.',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['ok', 'degraded'] } },
    },
  })
  @ApiResponse({ status: 503, description: '`{ "status": "down" }`: PostgreSQL or Redis is unreachable' })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthSummary> {
    const summary = await this.health.summary();
    void reply.status(summary.status === 'down' ? 503 : 200).header('Cache-Control', 'no-store');
    return summary;
  }

  @Get('details')
  @Auth('admin')
  @ApiBearerAuth('platform-admin')
  @ApiOperation({
    summary: 'Every component, for the platform operator',
    description:
      'Database and Redis (status, latency, error), and `walletConfigurations`: APNs credential health and ' +
      'certificate expiry (days left) of every Apple configuration of every tenant, the unhealthy and the ' +
      'soonest-expiring first (at most 200). Needs the platform admin token. 503 when PostgreSQL or Redis is down.',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  async details(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const report = await this.health.details();
    void reply.status(report.status === 'down' ? 503 : 200).header('Cache-Control', 'no-store');
    return report;
  }
}
