import { Module } from '@nestjs/common';
import { ApnsClientFactory } from '../../integrations/apns/apns-client.factory';
import { AppleDevicesModule } from '../apple-web-service/apple-devices.module';
import { WalletConfigurationsModule } from '../wallet-configurations/wallet-configurations.module';
import { ApplePushProcessor } from './apple-push.processor';
import { ApplePusherService } from './apple-pusher.service';
import { PushRepository } from './push.repository';

/** The Apple push queue's worker; loaded only in the worker role (ROLE=worker or all). */
@Module({
  imports: [WalletConfigurationsModule, AppleDevicesModule],
  providers: [ApnsClientFactory, PushRepository, ApplePusherService, ApplePushProcessor],
})
export class PushWorkerModule {}
