import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { DomainError } from '../../common/errors';
import { isDeviceLibraryIdentifier } from './apple-protocol';
import { AppleRateLimiter, RateLimitSubject } from './apple-rate-limiter';

/**
 * Counts every Apple web service request against its client IP and, on device routes, against
 * the device library identifier (only a well-formed one: a malformed id gets its 400 anyway).
 * Over the limit: 429 with Retry-After, before any database work. Decided in memory (see
 * AppleRateLimiter), so the guard adds no round trip to a request.
 */
@Injectable()
export class AppleRateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: AppleRateLimiter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest<{ Params: Record<string, string> }>>();
    const subjects: RateLimitSubject[] = [{ kind: 'ip', id: req.ip, limit: this.config.appleRateLimitPerIp }];
    const device = req.params?.deviceLibraryIdentifier;
    if (device !== undefined && isDeviceLibraryIdentifier(device)) {
      subjects.push({ kind: 'device', id: device, limit: this.config.appleRateLimitPerDevice });
    }
    const verdict = this.limiter.check(subjects);
    if (!verdict.allowed) {
      throw new DomainError('RATE_LIMITED', 'Too many requests; retry later', undefined, {
        'Retry-After': String(verdict.retryAfterSeconds),
      });
    }
    return true;
  }
}

/**
 * The budget of device log messages per client IP and minute (`APPLE_LOG_RATE_LIMIT_PER_IP`):
 * counts messages, not requests, so one request of 100 messages weighs what 100 requests of one do.
 */
@Injectable()
export class DeviceLogBudget {
  constructor(
    private readonly limiter: AppleRateLimiter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  admit(clientIp: string, messages: number): void {
    if (messages === 0) return;
    const verdict = this.limiter.check(
      [{ kind: 'log-ip', id: clientIp, limit: this.config.appleLogRateLimitPerIp }],
      Date.now(),
      messages,
    );
    if (!verdict.allowed) {
      throw new DomainError(
        'RATE_LIMITED',
        'Too many device log messages from this address; retry later',
        undefined,
        {
          'Retry-After': String(verdict.retryAfterSeconds),
        },
      );
    }
  }
}
