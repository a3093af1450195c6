import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../../common/errors';
import { AppleDeviceLogsRepository, StoredDeviceLog } from './apple-device-logs.repository';
import { deviceLogContext, logMessagesOf } from './apple-protocol';

/** Newest messages kept per tenant (and for the bucket of messages that name no known pass). */
export const DEVICE_LOGS_KEPT_PER_TENANT = 1000;

/**
 * `POST /v1/log`: Wallet reports what went wrong on the device (a failed registration, a pass it
 * could not fetch). Each message is logged at warn with the pass type, serial and device it names,
 * and kept for the owning tenant's diagnosis, bounded.
 */
@Injectable()
export class AppleDeviceLogsService {
  private readonly logger = new Logger('AppleWalletDevice');

  constructor(private readonly repo: AppleDeviceLogsRepository) {}

  async record(body: unknown, clientIp: string): Promise<void> {
    const messages = logMessagesOf(body);
    if (messages === null) throw DomainError.validation('logs', 'must be an array of strings');
    if (messages.length === 0) return;
    // PostgreSQL text cannot hold NUL.
    const entries = messages.map((raw) => {
      const message = raw.replaceAll('\u0000', '');
      return { message, ctx: deviceLogContext(message) };
    });
    const serials = [...new Set(entries.flatMap((e) => (e.ctx.serialNumber ? [e.ctx.serialNumber] : [])))];
    const tenants = await this.repo.tenantsBySerial(serials);
    const rows = entries.map(({ message, ctx }) => {
      const tenantId = (ctx.serialNumber && tenants.get(ctx.serialNumber)) || null;
      this.logger.warn({ ...ctx, tenantId, clientIp }, `Wallet device log: ${message}`);
      return {
        tenantId,
        passTypeIdentifier: ctx.passTypeIdentifier ?? null,
        serialNumber: ctx.serialNumber ?? null,
        deviceLibraryIdentifier: ctx.deviceLibraryIdentifier ?? null,
        message,
      };
    });
    await this.repo.append(rows, DEVICE_LOGS_KEPT_PER_TENANT);
  }

  /** A tenant's newest device messages, for diagnosis. */
  recent(tenantId: string, limit = 100): Promise<StoredDeviceLog[]> {
    return this.repo.recent(tenantId, Math.min(Math.max(limit, 1), DEVICE_LOGS_KEPT_PER_TENANT));
  }
}
