import { Injectable } from '@nestjs/common';
import {
  GoogleWalletClient,
  type GoogleServiceAccountKey,
  type GoogleWalletEndpoints,
} from './google-wallet.client';

/** Enough for every active wallet configuration; the least recently used client goes first. */
const MAX_CACHED_CLIENTS = 500;

interface CachedClient {
  version: string;
  client: GoogleWalletClient;
}

/**
 * One `GoogleWalletClient` per wallet configuration, kept so its access token is reused across
 * requests. `version` must change whenever the configuration's service-account key (or endpoints)
 * change; the cached client is then replaced.
 */
@Injectable()
export class GoogleWalletClientFactory {
  private readonly clients = new Map<string, CachedClient>();

  get(
    configId: string,
    version: string,
    key: GoogleServiceAccountKey,
    opts: GoogleWalletEndpoints,
  ): GoogleWalletClient {
    const cached = this.clients.get(configId);
    if (cached) {
      this.clients.delete(configId);
      if (cached.version === version) {
        this.clients.set(configId, cached);
        return cached.client;
      }
    }
    const client = new GoogleWalletClient({ ...opts, serviceAccountKey: key });
    this.clients.set(configId, { version, client });
    if (this.clients.size > MAX_CACHED_CLIENTS) {
      const oldest = this.clients.keys().next();
      if (!oldest.done) this.clients.delete(oldest.value);
    }
    return client;
  }

  /** Forget a configuration's client, e.g. when the configuration is deleted. */
  evict(configId: string): void {
    this.clients.delete(configId);
  }
}
