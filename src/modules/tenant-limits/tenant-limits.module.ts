import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppleRateLimiter } from '../apple-web-service/apple-rate-limiter';
import { TenantRateLimitGuard } from './tenant-rate-limit.guard';

/**
 * Per-tenant request limits. Import it after the modules that authenticate (TenantsModule,
 * AuthModule): global guards run in registration order, and this one needs the tenant.
 */
@Module({
  providers: [
    AppleRateLimiter,
    TenantRateLimitGuard,
    { provide: APP_GUARD, useExisting: TenantRateLimitGuard },
  ],
})
export class TenantLimitsModule {}
