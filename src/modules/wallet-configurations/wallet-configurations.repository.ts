import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { ApnsHealthStatus, WalletConfiguration } from './wallet-configuration.entity';

/** Columns a caller may set; id, tenant, version and timestamps are the repository's business. */
export type WalletConfigurationColumns = Omit<
  WalletConfiguration,
  'id' | 'tenantId' | 'version' | 'createdAt' | 'updatedAt'
>;
export type WalletConfigurationChanges = Partial<WalletConfigurationColumns>;

/** Inside a locked update or delete: how many campaigns (of any status) reference the configuration. */
export type CampaignCounter = () => Promise<number>;

export class WalletConfigurationInUseError extends Error {
  constructor(readonly campaigns: number | null) {
    super('wallet configuration is used by campaigns');
  }
}

const FOREIGN_KEY_VIOLATION = '23503';

@Injectable()
export class WalletConfigurationsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(
    tenantId: string,
    id: string,
    columns: WalletConfigurationColumns,
  ): Promise<WalletConfiguration> {
    const repo = this.db.getRepository(WalletConfiguration);
    await repo.insert({ ...columns, id, tenantId });
    return repo.findOneByOrFail({ id, tenantId });
  }

  async list(tenantId: string, limit: number, offset: number): Promise<[WalletConfiguration[], number]> {
    return this.db.getRepository(WalletConfiguration).findAndCount({
      where: { tenantId },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
  }

  async findOne(tenantId: string, id: string): Promise<WalletConfiguration | null> {
    return this.db.getRepository(WalletConfiguration).findOneBy({ id, tenantId });
  }

  /**
   * Locks the tenant's row, lets `decide` compute the changes from its current state (it may throw,
   * for example when a block still used by campaigns would be removed), applies them and bumps the
   * version. The row lock also holds off campaigns being created against the row meanwhile
   * (their foreign-key check needs a KEY SHARE lock). Null when the tenant has no such row.
   */
  async updateLocked(
    tenantId: string,
    id: string,
    decide: (current: WalletConfiguration, campaigns: CampaignCounter) => Promise<WalletConfigurationChanges>,
  ): Promise<WalletConfiguration | null> {
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(WalletConfiguration);
      const current = await repo.findOne({ where: { id, tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!current) return null;
      const changes = await decide(current, () => countCampaigns(m, id));
      await repo.update(
        { id, tenantId },
        {
          ...changes,
          version: () => 'version + 1',
          updatedAt: () => 'now()',
        },
      );
      return repo.findOneByOrFail({ id, tenantId });
    });
  }

  /** False when the tenant has no such row; throws WalletConfigurationInUseError when campaigns use it. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    try {
      return await this.db.transaction(async (m) => {
        const current = await m
          .getRepository(WalletConfiguration)
          .findOne({ where: { id, tenantId }, lock: { mode: 'pessimistic_write' } });
        if (!current) return false;
        const campaigns = await countCampaigns(m, id);
        if (campaigns > 0) throw new WalletConfigurationInUseError(campaigns);
        await m.getRepository(WalletConfiguration).delete({ id, tenantId });
        return true;
      });
    } catch (err) {
      // A campaign created between the check and the delete: the RESTRICT foreign key refuses.
      if (errorCode(err) === FOREIGN_KEY_VIOLATION) throw new WalletConfigurationInUseError(null);
      throw err;
    }
  }

  /** Internal callers only (workers, Apple's web service): not scoped to a tenant. */
  async findByIdAcrossTenants(id: string): Promise<WalletConfiguration | null> {
    return this.db.getRepository(WalletConfiguration).findOneBy({ id });
  }

  /**
   * Internal: records the outcome of the last APNs attempt. Not a configuration change, so neither
   * version nor updated_at move; writes only when the status or error differs. True when it wrote.
   */
  async setApnsHealthAcrossTenants(
    id: string,
    status: ApnsHealthStatus,
    error: string | null,
  ): Promise<boolean> {
    const [, affected] = await this.db.query<[unknown[], number]>(
      `UPDATE wallet_configurations SET apns_status = $2, apns_error = $3,
              apns_status_since = CASE WHEN apns_status IS DISTINCT FROM $2 THEN now() ELSE apns_status_since END
        WHERE id = $1 AND (apns_status IS DISTINCT FROM $2 OR apns_error IS DISTINCT FROM $3)`,
      [id, status, error],
    );
    return affected > 0;
  }

  /** Apple configurations of every tenant: APNs-unhealthy first, then soonest certificate expiry. */
  async listAppleAcrossTenants(limit: number): Promise<[WalletConfiguration[], number]> {
    const repo = this.db.getRepository(WalletConfiguration);
    const qb = repo
      .createQueryBuilder('c')
      .where('c.apple_pass_type_identifier IS NOT NULL')
      .orderBy(`CASE WHEN c.apns_status <> 'OK' THEN 0 ELSE 1 END`, 'ASC')
      .addOrderBy('c.apple_certificate_expires_at', 'ASC', 'NULLS LAST')
      .addOrderBy('c.id', 'ASC')
      .take(limit);
    return qb.getManyAndCount();
  }

  async appleExpiriesAcrossTenants(): Promise<{ id: string; expiresAt: Date }[]> {
    const rows = await this.db.query<{ id: string; expires_at: Date }[]>(
      `SELECT id, apple_certificate_expires_at AS expires_at FROM wallet_configurations
        WHERE apple_certificate_expires_at IS NOT NULL`,
    );
    return rows.map((r) => ({ id: r.id, expiresAt: r.expires_at }));
  }

  /** Internal (health reporting): configurations of every tenant whose APNs status is not OK. */
  async listUnhealthyAcrossTenants(limit: number): Promise<WalletConfiguration[]> {
    return this.db.getRepository(WalletConfiguration).find({
      where: { apnsStatus: In(['UNHEALTHY', 'UNREACHABLE']) },
      order: { updatedAt: 'DESC', id: 'ASC' },
      take: limit,
    });
  }
}

async function countCampaigns(m: EntityManager, walletConfigurationId: string): Promise<number> {
  const rows = await m.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM campaigns WHERE wallet_configuration_id = $1`,
    [walletConfigurationId],
  );
  return rows[0]?.n ?? 0;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}
