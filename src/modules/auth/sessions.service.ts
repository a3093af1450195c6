import { Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DomainError } from '../../common/errors';
import { AppleRateLimiter } from '../apple-web-service/apple-rate-limiter';
import { UsersService } from '../users/users.service';
import { AuthSessionResponseDto } from './dto/auth.dto';
import { hashSessionId, newCsrfToken, newSessionId } from './session-cookie';
import { SessionPrincipal, SessionsRepository } from './sessions.repository';

/** A session's last-seen time is written at most this often (not on every request). */
const TOUCH_EVERY_MS = 60_000;

export interface StartedSession {
  cookieValue: string;
  maxAgeSeconds: number;
  body: AuthSessionResponseDto;
}

/**
 * Console sessions, kept in PostgreSQL: a random 256-bit id in an HttpOnly cookie (stored only as
 * its SHA-256), a CSRF token per session, an idle timeout (SESSION_IDLE_MINUTES) and an absolute
 * lifetime (SESSION_MAX_HOURS).
 */
@Injectable()
export class SessionsService {
  private lastCleanup = 0;

  constructor(
    private readonly repo: SessionsRepository,
    private readonly users: UsersService,
    private readonly limiter: AppleRateLimiter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async login(email: string, password: string, clientIp: string): Promise<StartedSession> {
    const emailKey = createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
    const verdict = this.limiter.check([
      { kind: 'login-email', id: emailKey, limit: this.config.loginRateLimitPerEmail },
      { kind: 'login-ip', id: clientIp, limit: this.config.loginRateLimitPerIp },
    ]);
    if (!verdict.allowed) {
      throw new DomainError('RATE_LIMITED', 'Too many sign-in attempts; retry later', undefined, {
        'Retry-After': String(verdict.retryAfterSeconds),
      });
    }
    const user = await this.users.verifyCredentials(email, password);
    if (!user) throw new DomainError('INVALID_CREDENTIALS', 'Email or password is wrong');

    const cookieValue = newSessionId();
    const csrfToken = newCsrfToken();
    await this.repo.insert(hashSessionId(cookieValue), {
      tenantId: user.tenantId,
      userId: user.id,
      csrfToken,
      maxHours: this.config.sessionMaxHours,
    });
    this.cleanupNowAndThen();
    const principal = await this.repo.findLive(hashSessionId(cookieValue), this.config.sessionIdleMinutes);
    if (!principal) throw new Error('session vanished right after it was created');
    return {
      cookieValue,
      maxAgeSeconds: this.config.sessionMaxHours * 3600,
      body: toSessionBody(principal),
    };
  }

  /** The session behind a cookie value, or null when it does not exist or has ended. */
  async resolve(cookieValue: string): Promise<(SessionPrincipal & { idHash: Buffer }) | null> {
    const idHash = hashSessionId(cookieValue);
    const principal = await this.repo.findLive(idHash, this.config.sessionIdleMinutes);
    if (!principal) return null;
    if (Date.now() - principal.lastSeenAt.getTime() > TOUCH_EVERY_MS) await this.repo.touch(idHash);
    return { ...principal, idHash };
  }

  async me(idHash: Buffer): Promise<AuthSessionResponseDto> {
    const principal = await this.repo.findLive(idHash, this.config.sessionIdleMinutes);
    if (!principal) throw new DomainError('UNAUTHORIZED', 'Not signed in');
    return toSessionBody(principal);
  }

  async logout(idHash: Buffer): Promise<void> {
    await this.repo.delete(idHash);
  }

  /** Changes the password and ends the user's other sessions (this one stays). */
  async changePassword(
    tenantId: string,
    userId: string,
    idHash: Buffer,
    current: string,
    next: string,
  ): Promise<void> {
    await this.users.changePassword(tenantId, userId, current, next);
    await this.repo.deleteOthersOfUser(tenantId, userId, idHash);
  }

  static csrfMatches(expected: string, given: string | undefined): boolean {
    if (!given) return false;
    const a = createHash('sha256').update(expected).digest();
    const b = createHash('sha256').update(given).digest();
    return timingSafeEqual(a, b);
  }

  private cleanupNowAndThen(): void {
    if (Date.now() - this.lastCleanup < 10 * 60_000) return;
    this.lastCleanup = Date.now();
    void this.repo.deleteEnded(this.config.sessionIdleMinutes).catch(() => undefined);
  }
}

export function toSessionBody(p: SessionPrincipal): AuthSessionResponseDto {
  return {
    user: { id: p.userId, email: p.email, role: p.role },
    tenant: { id: p.tenantId, name: p.tenantName },
    csrfToken: p.csrfToken,
  };
}
