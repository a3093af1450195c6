import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiKey } from './api-key.entity';
import { Tenant } from './tenant.entity';

@Injectable()
export class TenantsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async createWithKey(
    name: string,
    key: Pick<ApiKey, 'name' | 'lookupId' | 'secretHash'>,
    alsoInTransaction?: (m: EntityManager, tenantId: string) => Promise<void>,
  ): Promise<{ tenant: Tenant; apiKey: ApiKey }> {
    return this.db.transaction(async (m) => {
      const tenant = await m.save(m.create(Tenant, { name }));
      const apiKey = await m.save(m.create(ApiKey, { ...key, tenantId: tenant.id }));
      if (alsoInTransaction) await alsoInTransaction(m, tenant.id);
      return { tenant, apiKey };
    });
  }

  async count(): Promise<number> {
    return this.db.getRepository(Tenant).count();
  }

  async exists(tenantId: string): Promise<boolean> {
    return this.db.getRepository(Tenant).exists({ where: { id: tenantId } });
  }

  async insertKey(tenantId: string, key: Pick<ApiKey, 'name' | 'lookupId' | 'secretHash'>): Promise<ApiKey> {
    const repo = this.db.getRepository(ApiKey);
    return repo.save(repo.create({ ...key, tenantId }));
  }

  async listKeys(tenantId: string, limit: number, offset: number): Promise<[ApiKey[], number]> {
    return this.db.getRepository(ApiKey).findAndCount({
      where: { tenantId },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
  }

  async findKeyByLookupId(lookupId: string): Promise<ApiKey | null> {
    return this.db.getRepository(ApiKey).findOne({ where: { lookupId } });
  }

  /** Returns the revoked key's lookup id, or null when the tenant has no such key. */
  async revokeKey(tenantId: string, keyId: string): Promise<string | null> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount] on PostgreSQL.
    const [rows] = await this.db.query<[{ lookup_id: string }[], number]>(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND tenant_id = $2 RETURNING lookup_id`,
      [keyId, tenantId],
    );
    return rows[0]?.lookup_id ?? null;
  }
}
