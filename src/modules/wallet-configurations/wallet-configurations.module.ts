import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretEncryptionService } from '../../integrations/crypto/secret-box';
import { ApnsCredentialsHealth } from './apns-credentials.health';
import { WalletConfiguration } from './wallet-configuration.entity';
import { WalletConfigurationsController } from './wallet-configurations.controller';
import { WalletConfigurationsRepository } from './wallet-configurations.repository';
import { WalletConfigurationsService } from './wallet-configurations.service';

@Module({
  imports: [TypeOrmModule.forFeature([WalletConfiguration])],
  controllers: [WalletConfigurationsController],
  providers: [
    WalletConfigurationsRepository,
    WalletConfigurationsService,
    SecretEncryptionService,
    ApnsCredentialsHealth,
  ],
  exports: [WalletConfigurationsService],
})
export class WalletConfigurationsModule {}
