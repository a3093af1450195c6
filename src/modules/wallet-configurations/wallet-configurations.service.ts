import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainError } from '../../common/errors';
import { page, Page, PaginationQueryDto } from '../../common/pagination/pagination';
import { SecretEncryptionService } from '../../integrations/crypto/secret-box';
import {
  appleChainWarnings,
  checkAppleCredentials,
  CheckedAppleCredentials,
} from './apple-credentials.validator';
import { daysLeft } from './certificate-expiry';
import { certificateAndKeyFromP12 } from './p12';
import {
  AppleCredentialsDto,
  CreateWalletConfigurationDto,
  UpdateWalletConfigurationDto,
  WalletConfigurationResponseDto,
} from './dto/wallet-configuration.dto';
import { checkGoogleCredentials } from './google-credentials.validator';
import { ApnsHealthStatus, WalletConfiguration } from './wallet-configuration.entity';
import type {
  AppleCredentials,
  GoogleCredentials,
  GoogleServiceAccountKey,
  AppleConfigurationHealth,
  UnhealthyWalletConfiguration,
} from './wallet-configuration.types';
import {
  WalletConfigurationChanges,
  WalletConfigurationColumns,
  WalletConfigurationInUseError,
  WalletConfigurationsRepository,
} from './wallet-configurations.repository';

type SecretPurpose = 'apple-private-key' | 'apple-passphrase' | 'google-service-account';
type AppleColumns = Pick<
  WalletConfigurationColumns,
  | 'applePassTypeIdentifier'
  | 'appleTeamIdentifier'
  | 'appleCertificatePem'
  | 'appleWwdrCertificatePem'
  | 'applePrivateKeyEnc'
  | 'applePassphraseEnc'
  | 'appleCertificateExpiresAt'
  | 'apnsStatus'
  | 'apnsError'
  | 'apnsStatusSince'
>;
type GoogleColumns = Pick<
  WalletConfigurationColumns,
  'googleIssuerId' | 'googleClientEmail' | 'googleServiceAccountEnc'
>;

const MAX_APNS_ERROR_LENGTH = 1000;

/** Binds a ciphertext to its row and purpose, so it cannot be replayed into another row or column. */
export function secretAad(id: string, purpose: SecretPurpose): string {
  return `wallet-configuration:${id}:${purpose}`;
}

/**
 * Tenants' Apple and Google credentials. The HTTP API (create/list/show/update/remove) answers
 * response DTOs that never carry a secret; other modules use `get`/`findById` and decrypt the
 * secrets they need with `decryptApple`/`decryptGoogle`, keyed for caching by `id` + `version`.
 */
@Injectable()
export class WalletConfigurationsService {
  private readonly logger = new Logger(WalletConfigurationsService.name);

  constructor(
    private readonly repo: WalletConfigurationsRepository,
    private readonly secrets: SecretEncryptionService,
  ) {}

  async create(tenantId: string, dto: CreateWalletConfigurationDto): Promise<WalletConfigurationResponseDto> {
    const id = randomUUID();
    const apple = dto.apple ? checkAppleCredentials(applePemInput(dto.apple)) : null;
    const google = dto.google ? checkGoogleCredentials(dto.google) : null;
    const row = await this.repo.insert(tenantId, id, {
      name: dto.name,
      ...this.appleColumns(id, apple),
      ...this.googleColumns(id, google),
    });
    this.logger.log(
      { tenantId, walletConfigurationId: id, apple: apple !== null, google: google !== null },
      'wallet configuration created',
    );
    return toResponse(row);
  }

  async list(tenantId: string, q: PaginationQueryDto): Promise<Page<WalletConfigurationResponseDto>> {
    const [rows, total] = await this.repo.list(tenantId, q.limit, q.offset);
    return page(rows.map(toResponse), total, q);
  }

  async show(tenantId: string, id: string): Promise<WalletConfigurationResponseDto> {
    return toResponse(await this.get(tenantId, id));
  }

  /**
   * Name changes as given; a present `apple`/`google` block replaces the stored one wholesale (and
   * is checked like on creation), `null` removes it. Removing a block, or changing the pass type id
   * or issuer id, while campaigns use the configuration is refused: issued passes carry those ids.
   */
  async update(
    tenantId: string,
    id: string,
    dto: UpdateWalletConfigurationDto,
  ): Promise<WalletConfigurationResponseDto> {
    if (dto.name === undefined && dto.apple === undefined && dto.google === undefined)
      return this.show(tenantId, id);
    const apple = dto.apple ? checkAppleCredentials(applePemInput(dto.apple)) : dto.apple;
    const google = dto.google ? checkGoogleCredentials(dto.google) : dto.google;

    const row = await this.repo.updateLocked(tenantId, id, async (current, campaigns) => {
      const changes: WalletConfigurationChanges = {};
      if (dto.name !== undefined) changes.name = dto.name;
      if (apple !== undefined) {
        const before = current.applePassTypeIdentifier;
        if (before !== null && before !== (apple?.passTypeIdentifier ?? null)) {
          await refuseWhileUsed(
            campaigns,
            apple ? 'change the Apple pass type id of' : 'remove the Apple block from',
          );
        }
        Object.assign(changes, this.appleColumns(id, apple));
      }
      if (google !== undefined) {
        const before = current.googleIssuerId;
        if (before !== null && before !== (google?.issuerId ?? null)) {
          await refuseWhileUsed(
            campaigns,
            google ? 'change the Google issuer id of' : 'remove the Google block from',
          );
        }
        Object.assign(changes, this.googleColumns(id, google));
      }
      return changes;
    });
    if (!row) throw notFound();
    this.logger.log(
      { tenantId, walletConfigurationId: id, version: row.version, fields: changedFields(dto) },
      'wallet configuration updated',
    );
    return toResponse(row);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    let deleted: boolean;
    try {
      deleted = await this.repo.delete(tenantId, id);
    } catch (err) {
      if (err instanceof WalletConfigurationInUseError) throw inUse('delete', err.campaigns);
      throw err;
    }
    if (!deleted) throw notFound();
    this.logger.log({ tenantId, walletConfigurationId: id }, 'wallet configuration deleted');
  }

  /** The tenant's configuration (secrets still encrypted); 404 WALLET_CONFIGURATION_NOT_FOUND otherwise. */
  async get(tenantId: string, id: string): Promise<WalletConfiguration> {
    const row = await this.repo.findOne(tenantId, id);
    if (!row) throw notFound();
    return row;
  }

  /** Not tenant-scoped: for workers and Apple's web service, which know the id from their own records. */
  async findById(id: string): Promise<WalletConfiguration | null> {
    return this.repo.findByIdAcrossTenants(id);
  }

  /** The Apple signing and APNs identity, or null when the configuration has no Apple block. */
  decryptApple(cfg: WalletConfiguration): AppleCredentials | null {
    const {
      applePassTypeIdentifier: passTypeIdentifier,
      appleTeamIdentifier: teamIdentifier,
      appleCertificatePem: certificatePem,
      appleWwdrCertificatePem: wwdrCertificatePem,
      applePrivateKeyEnc,
      applePassphraseEnc,
    } = cfg;
    if (
      !passTypeIdentifier ||
      !teamIdentifier ||
      !certificatePem ||
      !wwdrCertificatePem ||
      !applePrivateKeyEnc
    )
      return null;
    return {
      passTypeIdentifier,
      teamIdentifier,
      certificatePem,
      privateKeyPem: this.secrets.decrypt(applePrivateKeyEnc, secretAad(cfg.id, 'apple-private-key')),
      ...(applePassphraseEnc
        ? {
            privateKeyPassphrase: this.secrets.decrypt(
              applePassphraseEnc,
              secretAad(cfg.id, 'apple-passphrase'),
            ),
          }
        : {}),
      wwdrCertificatePem,
    };
  }

  /** The Google issuer and service-account key, or null when the configuration has no Google block. */
  decryptGoogle(cfg: WalletConfiguration): GoogleCredentials | null {
    if (!cfg.googleIssuerId || !cfg.googleServiceAccountEnc) return null;
    const json = this.secrets.decrypt(
      cfg.googleServiceAccountEnc,
      secretAad(cfg.id, 'google-service-account'),
    );
    return { issuerId: cfg.googleIssuerId, serviceAccountKey: JSON.parse(json) as GoogleServiceAccountKey };
  }

  /**
   * Records the outcome of the latest APNs pushes with the configuration's certificate (`since`
   * moves only when the status changes). Not a configuration change: the version is not bumped.
   * The error text must not contain secrets.
   */
  async setApnsHealth(id: string, status: ApnsHealthStatus, error?: string): Promise<void> {
    const text = status === 'OK' ? null : (error ?? 'unknown APNs error').slice(0, MAX_APNS_ERROR_LENGTH);
    const changed = await this.repo.setApnsHealthAcrossTenants(id, status, text);
    if (changed)
      this.logger.warn(
        { walletConfigurationId: id, apnsStatus: status, apnsError: text },
        'APNs health changed',
      );
  }

  /**
   * Every tenant's Apple configurations for the operator (no secrets): APNs-unhealthy first, then
   * by certificate expiry, soonest first; at most `limit`, with the total.
   */
  async appleHealthAcrossTenants(
    limit: number,
  ): Promise<{ total: number; items: AppleConfigurationHealth[] }> {
    const [rows, total] = await this.repo.listAppleAcrossTenants(limit);
    return {
      total,
      items: rows.map((r) => ({
        id: r.id,
        tenantId: r.tenantId,
        passTypeIdentifier: r.applePassTypeIdentifier,
        apnsStatus: r.apnsStatus,
        apnsError: r.apnsError,
        certificateExpiresAt: r.appleCertificateExpiresAt?.toISOString() ?? null,
        certificateDaysLeft: daysLeft(r.appleCertificateExpiresAt),
        warnings: r.appleWwdrCertificatePem ? appleChainWarnings(r.appleWwdrCertificatePem) : [],
      })),
    };
  }

  /** Pass certificate expiry of every Apple configuration, for the metrics gauge. */
  certificateExpiries(): Promise<{ id: string; expiresAt: Date }[]> {
    return this.repo.appleExpiriesAcrossTenants();
  }

  /** Configurations of every tenant whose last APNs attempt failed (no secrets), newest first. */
  async listUnhealthy(limit = 100): Promise<UnhealthyWalletConfiguration[]> {
    const rows = await this.repo.listUnhealthyAcrossTenants(limit);
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenantId,
      name: r.name,
      passTypeIdentifier: r.applePassTypeIdentifier,
      apnsStatus: r.apnsStatus,
      apnsError: r.apnsError,
      certificateExpiresAt: r.appleCertificateExpiresAt,
    }));
  }

  /** New credentials start healthy: the APNs status belongs to the certificate it was measured with. */
  private appleColumns(id: string, apple: CheckedAppleCredentials | null): AppleColumns {
    return {
      applePassTypeIdentifier: apple?.passTypeIdentifier ?? null,
      appleTeamIdentifier: apple?.teamIdentifier ?? null,
      appleCertificatePem: apple?.certificatePem ?? null,
      appleWwdrCertificatePem: apple?.wwdrCertificatePem ?? null,
      applePrivateKeyEnc: apple
        ? this.secrets.encrypt(apple.privateKeyPem, secretAad(id, 'apple-private-key'))
        : null,
      applePassphraseEnc:
        apple?.privateKeyPassphrase !== undefined
          ? this.secrets.encrypt(apple.privateKeyPassphrase, secretAad(id, 'apple-passphrase'))
          : null,
      appleCertificateExpiresAt: apple?.certificateExpiresAt ?? null,
      apnsStatus: 'OK',
      apnsError: null,
      apnsStatusSince: null,
    };
  }

  private googleColumns(id: string, google: GoogleCredentials | null): GoogleColumns {
    return {
      googleIssuerId: google?.issuerId ?? null,
      googleClientEmail: google?.serviceAccountKey.client_email ?? null,
      googleServiceAccountEnc: google
        ? this.secrets.encrypt(
            JSON.stringify(google.serviceAccountKey),
            secretAad(id, 'google-service-account'),
          )
        : null,
    };
  }
}

function toResponse(r: WalletConfiguration): WalletConfigurationResponseDto {
  const apple =
    r.applePassTypeIdentifier && r.appleTeamIdentifier && r.appleCertificatePem && r.appleWwdrCertificatePem
      ? {
          passTypeIdentifier: r.applePassTypeIdentifier,
          teamIdentifier: r.appleTeamIdentifier,
          certificatePem: r.appleCertificatePem,
          wwdrCertificatePem: r.appleWwdrCertificatePem,
          certificateExpiresAt: r.appleCertificateExpiresAt?.toISOString() ?? '',
          certificateDaysLeft: daysLeft(r.appleCertificateExpiresAt),
          warnings: appleChainWarnings(r.appleWwdrCertificatePem),
          apnsStatus: r.apnsStatus,
          apnsError: r.apnsError,
          apns: {
            status: r.apnsStatus,
            message: r.apnsError,
            since: r.apnsStatusSince?.toISOString() ?? null,
          },
        }
      : null;
  const google =
    r.googleIssuerId && r.googleClientEmail
      ? { issuerId: r.googleIssuerId, clientEmail: r.googleClientEmail }
      : null;
  return {
    id: r.id,
    name: r.name,
    apple,
    google,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

function notFound(): DomainError {
  return DomainError.notFound('WALLET_CONFIGURATION_NOT_FOUND', 'Wallet configuration');
}

function inUse(action: string, campaigns: number | null): DomainError {
  const by = campaigns === null ? 'a campaign' : campaigns === 1 ? '1 campaign' : `${campaigns} campaigns`;
  return new DomainError(
    'WALLET_CONFIGURATION_IN_USE',
    `Cannot ${action} this wallet configuration: it is used by ${by}`,
  );
}

function changedFields(dto: UpdateWalletConfigurationDto): string[] {
  return (['name', 'apple', 'google'] as const).filter((k) => dto[k] !== undefined);
}

async function refuseWhileUsed(campaigns: () => Promise<number>, action: string): Promise<void> {
  const n = await campaigns();
  if (n > 0) throw inUse(action, n);
}

/** A `.p12` upload becomes the certificate and key PEMs the checks take; both at once is refused. */
function applePemInput(apple: AppleCredentialsDto): AppleCredentialsDto {
  if (apple.p12Base64 === undefined) return apple;
  if (apple.certificatePem !== undefined || apple.privateKeyPem !== undefined) {
    throw DomainError.validation(
      'apple.p12Base64',
      'give either p12Base64 or certificatePem + privateKeyPem, not both',
    );
  }
  const { p12Base64, p12Password, ...rest } = apple;
  return { ...rest, ...certificateAndKeyFromP12(p12Base64, p12Password ?? '') };
}
