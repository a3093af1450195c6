export { WalletConfiguration, type ApnsHealthStatus } from './wallet-configuration.entity';
export type {
  AppleCredentials,
  GoogleCredentials,
  GoogleServiceAccountKey,
  UnhealthyWalletConfiguration,
} from './wallet-configuration.types';
export { WalletConfigurationsModule } from './wallet-configurations.module';
export { WalletConfigurationsService } from './wallet-configurations.service';
