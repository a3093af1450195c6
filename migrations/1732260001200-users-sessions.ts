import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenant users (console sign-in) and their server-side sessions. Emails are unique across all
 * tenants (case-insensitively), so signing in needs no tenant. A session row is found by the
 * SHA-256 of the cookie value; the cookie value itself is never stored.
 */
export class UsersSessions1732260001200 implements MigrationInterface {
  name = 'UsersSessions1732260001200';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_uq ON users (lower(email))`);
    await q.query(`CREATE INDEX users_tenant_idx ON users (tenant_id, created_at)`);
    await q.query(`
      CREATE TABLE user_sessions (
        id_hash bytea PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX user_sessions_user_idx ON user_sessions (user_id)`);
    await q.query(`CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_sessions`);
    await q.query(`DROP TABLE users`);
  }
}
