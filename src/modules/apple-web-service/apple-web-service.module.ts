import { Controller, DynamicModule, Module, Type } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '../../config/app-config';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { PassesModule } from '../passes/passes.module';
import { AppleDevicesModule } from './apple-devices.module';
import { ApplePassDeliveryService } from './apple-pass-delivery.service';
import { AppleRateLimitGuard, DeviceLogBudget } from './apple-rate-limit.guard';
import { AppleRateLimiter } from './apple-rate-limiter';
import { AppleWebServiceController } from './apple-web-service.controller';

/**
 * The path part of PUBLIC_BASE_URL (`https://x.test/wallet` → `wallet`). Devices call
 * `<webServiceURL>/v1/…`, so with a path the routes are served under `/<path>/v1` as well as
 * under `/v1` (for a proxy that strips the path).
 */
export function webServiceBasePath(publicBaseUrl: string): string {
  return new URL(publicBaseUrl).pathname.replace(/^\/+|\/+$/g, '');
}

/** The same routes under `/<base path>/v1`: a subclass inherits the handlers and their metadata. */
function prefixedController(basePath: string): Type {
  @ApiExcludeController()
  @Controller(`${basePath}/v1`)
  class PrefixedAppleWebServiceController extends AppleWebServiceController {}
  return PrefixedAppleWebServiceController;
}

/** The web service routes; other modules import `AppleDevicesModule` for the services. */
@Module({})
export class AppleWebServiceModule {
  static forRoot(config: AppConfig): DynamicModule {
    const basePath = webServiceBasePath(config.publicBaseUrl);
    const controllers: Type[] = [AppleWebServiceController];
    if (basePath) controllers.push(prefixedController(basePath));
    return {
      module: AppleWebServiceModule,
      imports: [AppleDevicesModule, PassesModule, CampaignsModule],
      controllers,
      providers: [ApplePassDeliveryService, AppleRateLimiter, AppleRateLimitGuard, DeviceLogBudget],
      exports: [AppleDevicesModule],
    };
  }
}
