import { Injectable } from '@nestjs/common';
import { generateApiKey } from './api-key.format';
import { CreateTenantResponseDto } from './dto/tenant.dto';
import { TenantsRepository } from './tenants.repository';

@Injectable()
export class TenantsService {
  constructor(private readonly repo: TenantsRepository) {}

  async create(name: string): Promise<CreateTenantResponseDto> {
    const key = generateApiKey();
    const { tenant } = await this.repo.createWithKey(name, {
      name: 'initial key',
      lookupId: key.lookupId,
      secretHash: key.secretHash,
    });
    return { id: tenant.id, name: tenant.name, apiKey: key.plaintext };
  }
}
