import type { ApnsHealthStatus } from './wallet-configuration.entity';

/** Decrypted Apple credentials: sign passes and authenticate to APNs with them. Never log or return them. */
export interface AppleCredentials {
  passTypeIdentifier: string;
  teamIdentifier: string;
  certificatePem: string;
  privateKeyPem: string;
  /** Present only when the private key is encrypted. */
  privateKeyPassphrase?: string;
  wwdrCertificatePem: string;
}

/** A Google Cloud service-account key file, as uploaded (unknown extra fields are kept). */
export interface GoogleServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
  project_id?: string;
  [field: string]: unknown;
}

/** Decrypted Google credentials. Never log or return them. */
export interface GoogleCredentials {
  issuerId: string;
  serviceAccountKey: GoogleServiceAccountKey;
}

/** A configuration whose last APNs attempt failed, for operators (no secrets). */
export interface UnhealthyWalletConfiguration {
  id: string;
  tenantId: string;
  name: string;
  passTypeIdentifier: string | null;
  apnsStatus: ApnsHealthStatus;
  apnsError: string | null;
  certificateExpiresAt: Date | null;
}

/** An Apple configuration's health for the platform operator (no secrets). */
export interface AppleConfigurationHealth {
  id: string;
  tenantId: string;
  passTypeIdentifier: string | null;
  apnsStatus: ApnsHealthStatus;
  apnsError: string | null;
  certificateExpiresAt: string | null;
  certificateDaysLeft: number;
  warnings: string[];
}
