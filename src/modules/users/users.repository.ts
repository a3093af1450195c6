import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Role } from '../../common/auth/auth.decorators';

export interface UserRow {
  id: string;
  tenantId: string;
  email: string;
  passwordHash: string;
  role: Role;
  createdAt: Date;
}

interface DbUser {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  role: Role;
  created_at: Date;
}

const COLUMNS = 'id, tenant_id, email, password_hash, role, created_at';

function toRow(r: DbUser): UserRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    email: r.email,
    passwordHash: r.password_hash,
    role: r.role,
    createdAt: r.created_at,
  };
}

/** The only writer of `users`. Emails are unique across tenants, case-insensitively. */
@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Null when the email is taken. `m` lets a caller create the user inside its own transaction. */
  async insert(
    tenantId: string,
    email: string,
    passwordHash: string,
    role: Role,
    m: EntityManager = this.db.manager,
  ): Promise<UserRow | null> {
    const rows = await m.query<DbUser[]>(
      `INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4)
       ON CONFLICT ((lower(email))) DO NOTHING RETURNING ${COLUMNS}`,
      [tenantId, email, passwordHash, role],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  async findByEmail(email: string): Promise<UserRow | null> {
    const rows = await this.db.query<DbUser[]>(
      `SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`,
      [email],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  async findById(tenantId: string, id: string): Promise<UserRow | null> {
    const rows = await this.db.query<DbUser[]>(
      `SELECT ${COLUMNS} FROM users WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  async list(tenantId: string): Promise<UserRow[]> {
    const rows = await this.db.query<DbUser[]>(
      `SELECT ${COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenantId],
    );
    return rows.map(toRow);
  }

  async setPasswordHash(tenantId: string, id: string, passwordHash: string): Promise<void> {
    await this.db.query(
      `UPDATE users SET password_hash = $3, updated_at = now() WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId, passwordHash],
    );
  }

  /**
   * Changes a role or deletes a user unless that would leave the tenant without an admin. The
   * tenant's admins are locked first, so two admins demoting each other at once cannot both win.
   */
  async changeGuardingLastAdmin(
    tenantId: string,
    id: string,
    change: { role: Role } | 'delete',
  ): Promise<UserRow | 'not-found' | 'last-admin'> {
    return this.db.transaction(async (m) => {
      const admins = await m.query<{ id: string }[]>(
        `SELECT id FROM users WHERE tenant_id = $1 AND role = 'admin' ORDER BY id FOR UPDATE`,
        [tenantId],
      );
      const current = await m.query<DbUser[]>(
        `SELECT ${COLUMNS} FROM users WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
        [id, tenantId],
      );
      const user = current[0];
      if (!user) return 'not-found';
      const losesAdmin = user.role === 'admin' && (change === 'delete' || change.role !== 'admin');
      if (losesAdmin && admins.length <= 1) return 'last-admin';
      if (change === 'delete') {
        await m.query(`DELETE FROM users WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
        return toRow(user);
      }
      const [rows] = await m.query<[DbUser[], number]>(
        `UPDATE users SET role = $3, updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}`,
        [id, tenantId, change.role],
      );
      return toRow(rows[0]!);
    });
  }
}
