import { X509Certificate } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { ApnsConnection, ApnsError, type ApnsConnectionOptions } from './apns-connection';

/** A Pass Type ID identity: `id` names it (e.g. the wallet configuration id). */
export interface ApnsCredentials {
  id: string;
  certificatePem: string;
  privateKeyPem: string;
  passphrase?: string;
}

export interface ApnsEndpoint {
  url: string;
  caPem?: string;
}

/** Connection tuning shared by every connection the factory makes. */
export type ApnsConnectionTuning = Pick<
  ApnsConnectionOptions,
  'maxConcurrentStreams' | 'requestTimeoutMs' | 'connectTimeoutMs' | 'reconnectDelayMs'
>;

/** Optional provider token for ApnsConnectionTuning. */
export const APNS_CONNECTION_TUNING = Symbol('APNS_CONNECTION_TUNING');

interface CachedConnection {
  fingerprint: string;
  /** The exact inputs last seen, so the hot path is a few string comparisons. */
  certificatePem: string;
  privateKeyPem: string;
  passphrase: string | undefined;
  url: string;
  caPem: string | undefined;
  connection: ApnsConnection;
}

/**
 * One long-lived APNs connection per Pass Type ID certificate. `get` is cheap on a hit; a changed
 * certificate (different SHA-256 fingerprint), key, URL or CA replaces the connection, and the old
 * one is closed gracefully (its streams in flight finish).
 */
@Injectable()
export class ApnsClientFactory implements OnModuleDestroy {
  private readonly connections = new Map<string, CachedConnection>();

  constructor(
    @Optional() @Inject(APNS_CONNECTION_TUNING) private readonly tuning: ApnsConnectionTuning = {},
  ) {}

  get(credentials: ApnsCredentials, opts: ApnsEndpoint): ApnsConnection {
    const cached = this.connections.get(credentials.id);
    if (cached && this.sameInputs(cached, credentials, opts)) return cached.connection;

    const fingerprint = certificateFingerprint(credentials.certificatePem);
    if (
      cached &&
      cached.fingerprint === fingerprint &&
      cached.privateKeyPem === credentials.privateKeyPem &&
      cached.passphrase === credentials.passphrase &&
      cached.url === opts.url &&
      cached.caPem === opts.caPem
    ) {
      // Same certificate re-encoded (whitespace, line endings): keep the connection.
      cached.certificatePem = credentials.certificatePem;
      return cached.connection;
    }

    const connection = new ApnsConnection({
      ...this.tuning,
      url: opts.url,
      caPem: opts.caPem,
      certificatePem: credentials.certificatePem,
      privateKeyPem: credentials.privateKeyPem,
      passphrase: credentials.passphrase,
    });
    this.connections.set(credentials.id, {
      fingerprint,
      certificatePem: credentials.certificatePem,
      privateKeyPem: credentials.privateKeyPem,
      passphrase: credentials.passphrase,
      url: opts.url,
      caPem: opts.caPem,
      connection,
    });
    if (cached) void cached.connection.close();
    return connection;
  }

  /** Closes one identity's connection (e.g. its configuration was deleted). */
  async release(id: string): Promise<void> {
    const cached = this.connections.get(id);
    if (!cached) return;
    this.connections.delete(id);
    await cached.connection.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.connection.close()));
  }

  async onModuleDestroy(): Promise<void> {
    await this.closeAll();
  }

  get size(): number {
    return this.connections.size;
  }

  private sameInputs(cached: CachedConnection, credentials: ApnsCredentials, opts: ApnsEndpoint): boolean {
    return (
      cached.certificatePem === credentials.certificatePem &&
      cached.privateKeyPem === credentials.privateKeyPem &&
      cached.passphrase === credentials.passphrase &&
      cached.url === opts.url &&
      cached.caPem === opts.caPem
    );
  }
}

function certificateFingerprint(pem: string): string {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch (err) {
    throw new ApnsError('credentials', 'APNs client certificate does not parse', { cause: err });
  }
}
