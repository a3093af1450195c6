import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Role } from '../../common/auth/auth.decorators';
import { DomainError } from '../../common/errors';
import { UserResponseDto } from './dto/user.dto';
import { decoyHash, hashPassword, verifyPassword } from './password-hasher';
import { UserRow, UsersRepository } from './users.repository';

export function toUserDto(u: UserRow): UserResponseDto {
  return { id: u.id, email: u.email, role: u.role, createdAt: u.createdAt.toISOString() };
}

/** Tenant users: creation, roles (never without an admin), credentials. */
@Injectable()
export class UsersService {
  constructor(private readonly repo: UsersRepository) {}

  /** Creates a user; `m` runs the insert inside the caller's transaction (a tenant's first admin). */
  async create(
    tenantId: string,
    input: { email: string; password: string; role: Role },
    m?: EntityManager,
  ): Promise<UserResponseDto> {
    const hash = await hashPassword(input.password);
    const row = await this.repo.insert(tenantId, input.email.trim(), hash, input.role, m);
    if (!row) {
      throw new DomainError('USER_EMAIL_TAKEN', 'email: a user with this email already exists', [
        { field: 'email', message: 'a user with this email already exists' },
      ]);
    }
    return toUserDto(row);
  }

  async list(tenantId: string): Promise<UserResponseDto[]> {
    return (await this.repo.list(tenantId)).map(toUserDto);
  }

  async get(tenantId: string, id: string): Promise<UserRow> {
    const row = await this.repo.findById(tenantId, id);
    if (!row) throw DomainError.notFound('USER_NOT_FOUND', 'User');
    return row;
  }

  async changeRole(tenantId: string, id: string, role: Role): Promise<UserResponseDto> {
    return toUserDto(this.unwrap(await this.repo.changeGuardingLastAdmin(tenantId, id, { role })));
  }

  async remove(tenantId: string, id: string): Promise<void> {
    this.unwrap(await this.repo.changeGuardingLastAdmin(tenantId, id, 'delete'));
  }

  /**
   * The user with this email and password, or null. Unknown emails are checked against a decoy
   * hash, so both failures take the same time.
   */
  async verifyCredentials(email: string, password: string): Promise<UserRow | null> {
    const row = await this.repo.findByEmail(email.trim());
    const ok = await verifyPassword(password, row?.passwordHash ?? (await decoyHash()));
    return row && ok ? row : null;
  }

  async changePassword(tenantId: string, id: string, current: string, next: string): Promise<void> {
    const row = await this.get(tenantId, id);
    if (!(await verifyPassword(current, row.passwordHash))) {
      throw DomainError.validation('currentPassword', 'is not the current password');
    }
    await this.repo.setPasswordHash(tenantId, id, await hashPassword(next));
  }

  private unwrap(r: UserRow | 'not-found' | 'last-admin'): UserRow {
    if (r === 'not-found') throw DomainError.notFound('USER_NOT_FOUND', 'User');
    if (r === 'last-admin') {
      throw new DomainError('LAST_ADMIN', 'The tenant must keep at least one admin');
    }
    return r;
  }
}
