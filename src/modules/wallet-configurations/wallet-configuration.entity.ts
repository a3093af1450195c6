import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * Outcome of the latest APNs pushes with a configuration's certificate: OK (delivered), UNHEALTHY
 * (APNs refused the certificate: pushes stopped), UNREACHABLE (no connection, timeouts, or APNs
 * answering 429/5xx with nothing delivered: pushes wait for retries).
 */
export type ApnsHealthStatus = 'OK' | 'UNHEALTHY' | 'UNREACHABLE';

/**
 * A tenant's Apple and/or Google credentials. Secret columns (`*Enc`) hold SecretBox ciphertext
 * bound to the row id; read them only through `WalletConfigurationsService.decryptApple/decryptGoogle`.
 * An Apple block is present when `applePassTypeIdentifier` is set, a Google block when `googleIssuerId` is.
 */
@Entity({ name: 'wallet_configurations' })
export class WalletConfiguration {
  /** Generated in code before insert: the secrets' associated data names it. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'apple_pass_type_identifier', type: 'text', nullable: true })
  applePassTypeIdentifier!: string | null;

  @Column({ name: 'apple_team_identifier', type: 'text', nullable: true })
  appleTeamIdentifier!: string | null;

  @Column({ name: 'apple_certificate_pem', type: 'text', nullable: true })
  appleCertificatePem!: string | null;

  @Column({ name: 'apple_wwdr_certificate_pem', type: 'text', nullable: true })
  appleWwdrCertificatePem!: string | null;

  @Column({ name: 'apple_private_key_enc', type: 'text', nullable: true })
  applePrivateKeyEnc!: string | null;

  @Column({ name: 'apple_passphrase_enc', type: 'text', nullable: true })
  applePassphraseEnc!: string | null;

  @Column({ name: 'apple_certificate_expires_at', type: 'timestamptz', nullable: true })
  appleCertificateExpiresAt!: Date | null;

  @Column({ name: 'google_issuer_id', type: 'text', nullable: true })
  googleIssuerId!: string | null;

  /** Kept in clear so responses can show which service account is configured. */
  @Column({ name: 'google_client_email', type: 'text', nullable: true })
  googleClientEmail!: string | null;

  @Column({ name: 'google_service_account_enc', type: 'text', nullable: true })
  googleServiceAccountEnc!: string | null;

  @Column({ name: 'apns_status', type: 'text', default: 'OK' })
  apnsStatus!: ApnsHealthStatus;

  @Column({ name: 'apns_error', type: 'text', nullable: true })
  apnsError!: string | null;

  /** When apnsStatus last changed; null while it never has. */
  @Column({ name: 'apns_status_since', type: 'timestamptz', nullable: true })
  apnsStatusSince!: Date | null;

  /** Increases with every change made through the API; a cache key for clients built from the secrets. */
  @Column({ type: 'integer', default: 1 })
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
