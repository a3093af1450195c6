import { Injectable, OnModuleInit } from '@nestjs/common';
import { HealthService } from '../health/health.service';
import { WalletConfigurationsService } from './wallet-configurations.service';

/** `/health` detail: wallet configurations whose certificate APNs refused (pushes stopped for them). */
@Injectable()
export class ApnsCredentialsHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthService,
    private readonly configurations: WalletConfigurationsService,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'apnsCredentials',
      check: async () => {
        const unhealthy = await this.configurations.listUnhealthy(20);
        if (unhealthy.length === 0) return { status: 'ok' };
        return {
          status: 'degraded',
          unhealthy: unhealthy.map((c) => ({
            id: c.id,
            tenantId: c.tenantId,
            passTypeIdentifier: c.passTypeIdentifier,
            error: c.apnsError,
          })),
        };
      },
    });
  }
}
