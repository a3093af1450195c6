import { Injectable } from '@nestjs/common';
import { UserCredentialsDto, UserResponseDto } from '../users/dto/user.dto';
import { UsersService } from '../users/users.service';
import { generateApiKey } from './api-key.format';
import { CreateTenantResponseDto } from './dto/tenant.dto';
import { TenantsRepository } from './tenants.repository';

@Injectable()
export class TenantsService {
  constructor(
    private readonly repo: TenantsRepository,
    private readonly users: UsersService,
  ) {}

  /** A tenant with its first API key and, optionally, its first admin user, in one transaction. */
  async create(name: string, admin?: UserCredentialsDto): Promise<CreateTenantResponseDto> {
    const key = generateApiKey();
    let adminUser: UserResponseDto | undefined;
    const { tenant } = await this.repo.createWithKey(
      name,
      { name: 'initial key', lookupId: key.lookupId, secretHash: key.secretHash },
      admin
        ? async (m, tenantId) => {
            adminUser = await this.users.create(tenantId, { ...admin, role: 'admin' }, m);
          }
        : undefined,
    );
    return {
      id: tenant.id,
      name: tenant.name,
      apiKey: key.plaintext,
      ...(adminUser ? { admin: adminUser } : {}),
    };
  }

  /** True when the database has no tenant at all (the demo seeds only then). */
  async none(): Promise<boolean> {
    return (await this.repo.count()) === 0;
  }
}
