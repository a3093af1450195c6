import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { GoogleWalletModule } from './integrations/google-wallet/google-wallet.module';
import { RedisModule } from './integrations/redis/redis.module';
import { AppleWebServiceModule } from './modules/apple-web-service/apple-web-service.module';
import { CampaignsModule } from './modules/campaigns/campaigns.module';
import { LinksModule } from './modules/links/links.module';
import { OutboxModule } from './modules/outbox/outbox.module';
import { OutboxCommitSubscriber } from './modules/outbox/outbox.service';
import { PassUpdatesModule } from './modules/pass-updates/pass-updates.module';
import { PassesModule } from './modules/passes/passes.module';
import { PushWorkerModule } from './modules/push/push.module';
import { redisConnectionOptions } from './queues/queues';
import { GoogleSyncWorkerModule } from './modules/google-sync/google-sync.module';
import { HealthModule } from './modules/health/health.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { TenantLimitsModule } from './modules/tenant-limits/tenant-limits.module';
import { TenantsModule } from './modules/tenants/tenants.module';
import { WalletConfigurationsModule } from './modules/wallet-configurations/wallet-configurations.module';
import { AuthModule } from './modules/auth/auth.module';
import { UsersModule } from './modules/users/users.module';
import { BulkUpdatesModule } from './modules/bulk-updates/bulk-updates.module';
import { BulkUpdatesWorkerModule } from './modules/bulk-updates/bulk-updates-worker.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';
import { WebhooksWorkerModule } from './modules/webhooks/webhooks-worker.module';
import { CampaignPreviewModule } from './modules/campaign-preview/campaign-preview.module';
import { CampaignActivityModule } from './modules/campaign-activity/campaign-activity.module';

/**
 * One build, three roles: `api` serves HTTP, `worker` runs the queue processors, `all` does both.
 * Feature modules register their processors only when `config.role !== 'api'`.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.databaseUrl,
          autoLoadEntities: true,
          synchronize: false,
          migrationsRun: false,
          poolSize: 20,
          subscribers: [OutboxCommitSubscriber],
          applicationName: `wallet-service-${config.role}`,
          extra: { options: sessionOptions(config.databaseUrl) },
        }),
        RedisModule,
        BullModule.forRoot({
          connection: redisConnectionOptions(config.redisUrl),
          prefix: config.queuePrefix,
        }),
        MetricsModule,
        OutboxModule,
        GoogleWalletModule,
        CampaignsModule,
        LinksModule,
        PassesModule,
        PassUpdatesModule,
        HealthModule,
        TenantsModule,
        WalletConfigurationsModule,
        AppleWebServiceModule.forRoot(config),
        UsersModule,
        AuthModule,
        BulkUpdatesModule,
        CampaignPreviewModule,
        CampaignActivityModule,
        // After every authenticating module: its guard reads the tenant they resolve.
        TenantLimitsModule,
        ...(config.role === 'api' ? [] : [GoogleSyncWorkerModule, PushWorkerModule, BulkUpdatesWorkerModule]),
        WebhooksModule,
        ...(config.role === 'api' ? [] : [WebhooksWorkerModule]),
      ],
    };
  }
}

/**
 * Session settings for the service's connections, after any `options` in DATABASE_URL.
 *
 * plan_cache_mode=force_generic_plan applies only to named prepared statements — the service
 * prepares only its hot Apple web service statements (see AppleDevicesRepository), and every
 * one of them is an index lookup whose generic plan is its best plan. Left to itself,
 * PostgreSQL keeps re-planning the array-parameter batch statements on every execution (about
 * 1 ms each), because a custom plan for a short array always looks cheaper than the generic one.
 */
export function sessionOptions(databaseUrl: string): string {
  const own = '-c plan_cache_mode=force_generic_plan';
  let fromUrl: string | null = null;
  try {
    fromUrl = new URL(databaseUrl).searchParams.get('options');
  } catch {
    // Not a URL (config validation reports that); nothing to keep.
  }
  return fromUrl ? `${fromUrl} ${own}` : own;
}
