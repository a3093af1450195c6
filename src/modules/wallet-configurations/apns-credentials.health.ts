import { Injectable, OnModuleInit } from '@nestjs/common';
import { HealthService } from '../health/health.service';
import { MetricsService } from '../metrics/metrics.service';
import { daysLeft } from './certificate-expiry';
import { WalletConfigurationsService } from './wallet-configurations.service';

/** Configurations listed in `/health/details` (the APNs-unhealthy and soonest-expiring first). */
const DETAILS_LIMIT = 200;

/**
 * Operator views of tenants' Apple credentials: the `walletConfigurations` component of
 * `/health/details` (APNs health and certificate expiry per configuration; degraded when any
 * configuration's certificate was refused by APNs or has expired), and the Prometheus gauge
 * `wallet_certificate_days_left{wallet_configuration_id}` — labelled by configuration id, never by
 * tenant name.
 */
@Injectable()
export class ApnsCredentialsHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
    private readonly configurations: WalletConfigurationsService,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'walletConfigurations',
      check: async () => {
        const { total, items } = await this.configurations.appleHealthAcrossTenants(DETAILS_LIMIT);
        const unhealthy = items.filter((c) => c.apnsStatus !== 'OK').length;
        const expired = items.filter((c) => c.certificateDaysLeft < 0).length;
        return {
          status: unhealthy > 0 || expired > 0 ? 'degraded' : 'ok',
          total,
          apnsUnhealthy: unhealthy,
          certificatesExpired: expired,
          items,
        };
      },
    });
    const configurations = this.configurations;
    this.metrics.gauge(
      'wallet_certificate_days_left',
      'Whole days until the pass certificate of each Apple wallet configuration expires',
      ['wallet_configuration_id'],
      async function collect() {
        const expiries = await configurations.certificateExpiries();
        this.reset();
        const now = Date.now();
        for (const e of expiries) this.set({ wallet_configuration_id: e.id }, daysLeft(e.expiresAt, now));
      },
    );
  }
}
