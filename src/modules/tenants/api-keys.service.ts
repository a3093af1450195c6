import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DomainError } from '../../common/errors';
import { page, Page, PaginationQueryDto } from '../../common/pagination/pagination';
import { RedisConnectionFactory } from '../../integrations/redis/redis.module';
import { ApiKey } from './api-key.entity';
import { generateApiKey, parseApiKey, secretMatches } from './api-key.format';
import { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/tenant.dto';
import { TenantsRepository } from './tenants.repository';

export interface ApiKeyPrincipal {
  tenantId: string;
  apiKeyId: string;
}

const REVOCATION_CHANNEL = 'wallet:api-key-revoked';

/**
 * Creates, lists, revokes and checks tenant API keys. Hot paths may use a short-lived cache of
 * verified keys; a revocation clears it here at once and on every other replica through Redis.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly cache = new Map<string, ApiKeyPrincipal & { lookupId: string; expiresAt: number }>();
  private subscriber?: Redis;
  private publisher?: Redis;

  constructor(
    private readonly repo: TenantsRepository,
    private readonly redis: RedisConnectionFactory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.apiKeyCacheTtlMs <= 0) return;
    this.publisher = this.redis.create('api-key-revocations-pub');
    // The subscription is queued until Redis answers, and renewed on every reconnect.
    this.subscriber = this.redis.create('api-key-revocations-sub', { offlineQueue: true });
    this.subscriber.subscribe(REVOCATION_CHANNEL).catch((err: Error) => {
      this.logger.warn(
        { err: err.message },
        'could not subscribe to key revocations; cached keys expire by TTL',
      );
    });
    this.subscriber.on('message', (_channel: string, lookupId: string) => this.forget(lookupId));
  }

  onModuleDestroy(): void {
    this.cache.clear();
  }

  async create(tenantId: string, name: string): Promise<CreatedApiKeyResponseDto> {
    const key = generateApiKey();
    const row = await this.repo.insertKey(tenantId, {
      name,
      lookupId: key.lookupId,
      secretHash: key.secretHash,
    });
    return { ...toDto(row), apiKey: key.plaintext };
  }

  async list(tenantId: string, q: PaginationQueryDto): Promise<Page<ApiKeyResponseDto>> {
    const [rows, total] = await this.repo.listKeys(tenantId, q.limit, q.offset);
    return page(rows.map(toDto), total, q);
  }

  async revoke(tenantId: string, keyId: string): Promise<void> {
    const lookupId = await this.repo.revokeKey(tenantId, keyId);
    if (!lookupId) throw DomainError.notFound('API_KEY_NOT_FOUND', 'API key');
    this.forget(lookupId);
    await this.publisher?.publish(REVOCATION_CHANNEL, lookupId).catch(() => undefined);
  }

  /** Resolves a bearer key to its tenant, or null. `cached` allows a recently verified answer. */
  async authenticate(plaintext: string, cached: boolean): Promise<ApiKeyPrincipal | null> {
    if (cached && this.config.apiKeyCacheTtlMs > 0) {
      const hit = this.cache.get(plaintext);
      if (hit && hit.expiresAt > Date.now()) return { tenantId: hit.tenantId, apiKeyId: hit.apiKeyId };
    }
    const parsed = parseApiKey(plaintext);
    if (!parsed) return null;
    const row = await this.repo.findKeyByLookupId(parsed.lookupId);
    if (!row || row.revokedAt || !secretMatches(parsed.secret, row.secretHash)) return null;
    const principal = { tenantId: row.tenantId, apiKeyId: row.id };
    if (this.config.apiKeyCacheTtlMs > 0) {
      if (this.cache.size > 10000) this.cache.clear();
      this.cache.set(plaintext, {
        ...principal,
        lookupId: row.lookupId,
        expiresAt: Date.now() + this.config.apiKeyCacheTtlMs,
      });
    }
    return principal;
  }

  private forget(lookupId: string): void {
    for (const [k, v] of this.cache) if (v.lookupId === lookupId) this.cache.delete(k);
  }
}

function toDto(k: ApiKey): ApiKeyResponseDto {
  return {
    id: k.id,
    name: k.name,
    prefix: `wsk_${k.lookupId}`,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
  };
}
