import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { GoogleWalletClientFactory } from './google-wallet-client.factory';
import { GoogleServiceAccountKey, GoogleWalletClient } from './google-wallet.client';
import { signSaveLink } from './save-link';
import type { GoogleWalletType } from './google-wallet.client';

/** The seam the service uses for Google Wallet: clients per configuration, endpoints from config. */
@Injectable()
export class GoogleWalletGateway {
  constructor(
    private readonly factory: GoogleWalletClientFactory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  client(configId: string, configVersion: number, key: GoogleServiceAccountKey): GoogleWalletClient {
    return this.factory.get(configId, String(configVersion), key, {
      apiBaseUrl: this.config.googleWalletApiUrl,
      tokenUrl: this.config.googleOauthTokenUrl,
      timeoutMs: this.config.googleRequestTimeoutMs,
    });
  }

  saveLink(
    key: GoogleServiceAccountKey,
    objectType: GoogleWalletType,
    objectId: string,
    classId: string,
  ): string {
    return signSaveLink({
      serviceAccountKey: key,
      saveUrlPrefix: this.config.googleSaveUrl,
      objectType,
      objectId,
      classId,
    });
  }
}

@Global()
@Module({ providers: [GoogleWalletClientFactory, GoogleWalletGateway], exports: [GoogleWalletGateway] })
export class GoogleWalletModule {}
