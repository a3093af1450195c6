import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Role } from '../../common/auth/auth.decorators';

export interface SessionPrincipal {
  tenantId: string;
  tenantName: string;
  userId: string;
  email: string;
  role: Role;
  csrfToken: string;
  lastSeenAt: Date;
}

/** The only writer of `user_sessions`. Rows are found by the SHA-256 of the cookie value. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(
    idHash: Buffer,
    s: { tenantId: string; userId: string; csrfToken: string; maxHours: number },
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO user_sessions (id_hash, tenant_id, user_id, csrf_token, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))`,
      [idHash, s.tenantId, s.userId, s.csrfToken, s.maxHours],
    );
  }

  /** The live session's user (role read now, so a role change applies at once), or null. */
  async findLive(idHash: Buffer, idleMinutes: number): Promise<SessionPrincipal | null> {
    const rows = await this.db.query<
      {
        tenant_id: string;
        tenant_name: string;
        user_id: string;
        email: string;
        role: Role;
        csrf_token: string;
        last_seen_at: Date;
      }[]
    >(
      `SELECT s.tenant_id, t.name AS tenant_name, s.user_id, u.email, u.role, s.csrf_token, s.last_seen_at
         FROM user_sessions s
         JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
         JOIN tenants t ON t.id = s.tenant_id
        WHERE s.id_hash = $1 AND s.expires_at > now()
          AND s.last_seen_at > now() - make_interval(mins => $2)`,
      [idHash, idleMinutes],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      tenantId: r.tenant_id,
      tenantName: r.tenant_name,
      userId: r.user_id,
      email: r.email,
      role: r.role,
      csrfToken: r.csrf_token,
      lastSeenAt: r.last_seen_at,
    };
  }

  async touch(idHash: Buffer): Promise<void> {
    await this.db.query(`UPDATE user_sessions SET last_seen_at = now() WHERE id_hash = $1`, [idHash]);
  }

  async delete(idHash: Buffer): Promise<void> {
    await this.db.query(`DELETE FROM user_sessions WHERE id_hash = $1`, [idHash]);
  }

  async deleteOthersOfUser(tenantId: string, userId: string, keep: Buffer): Promise<void> {
    await this.db.query(`DELETE FROM user_sessions WHERE tenant_id = $1 AND user_id = $2 AND id_hash <> $3`, [
      tenantId,
      userId,
      keep,
    ]);
  }

  /** Drops sessions that ended (absolutely, or by idling); called now and then on sign-in. */
  async deleteEnded(idleMinutes: number): Promise<void> {
    await this.db.query(
      `DELETE FROM user_sessions WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(mins => $1)`,
      [idleMinutes],
    );
  }
}
