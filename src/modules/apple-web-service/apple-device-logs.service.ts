import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../../common/errors';
import { AppleDeviceLogsRepository, DeviceLogRow, StoredDeviceLog } from './apple-device-logs.repository';
import { deviceLogContext, logMessagesOf } from './apple-protocol';

/** Newest distinct messages kept per tenant. */
export const DEVICE_LOGS_KEPT_PER_TENANT = 1000;
/** Newest distinct messages kept that name no known pass: their own bucket, so they never evict a tenant's. */
export const DEVICE_LOGS_KEPT_UNATTRIBUTED = 200;
/** Characters of the first message quoted in the request's log line. */
const SAMPLE_LENGTH = 200;

/**
 * `POST /v1/log`: Wallet reports what went wrong on the device (a failed registration, a pass it
 * could not fetch). The endpoint is unauthenticated by Apple's design, so it is bounded: at most
 * 100 messages of 2,000 characters per request (413 beyond), a budget of messages per client IP
 * and minute (429), one log line per request (counts and a short sample, not a line per message),
 * and storage of each distinct message once per bucket with a count. A message naming a known
 * serial goes to that pass's tenant (newest 1,000 distinct kept); anything else to a separate
 * bucket of 200, so unattributed noise cannot push a tenant's real device logs out.
 */
@Injectable()
export class AppleDeviceLogsService {
  private readonly logger = new Logger('AppleWalletDevice');

  constructor(private readonly repo: AppleDeviceLogsRepository) {}

  /** The messages of a `POST /v1/log` body; 400 for another shape, 413 beyond the caps, naming the field. */
  parse(body: unknown): string[] {
    const messages = logMessagesOf(body);
    if (!Array.isArray(messages)) {
      const { field, message } = messages;
      if (messages.tooLarge) {
        throw new DomainError('PAYLOAD_TOO_LARGE', `${field}: ${message}`, [{ field, message }]);
      }
      throw DomainError.validation(field, message);
    }
    return messages;
  }

  /** Stores and logs messages already parsed and admitted by the per-address budget. */
  async record(messages: string[], clientIp: string): Promise<void> {
    if (messages.length === 0) return;
    // Identical messages of one request are stored once, with their count. PostgreSQL text cannot hold NUL.
    const distinct = new Map<string, number>();
    for (const raw of messages) {
      const message = raw.replaceAll('\u0000', '');
      distinct.set(message, (distinct.get(message) ?? 0) + 1);
    }
    const entries = [...distinct].map(([message, occurrences]) => ({
      message,
      occurrences,
      ctx: deviceLogContext(message),
    }));
    const serials = [...new Set(entries.flatMap((e) => (e.ctx.serialNumber ? [e.ctx.serialNumber] : [])))];
    const tenants = await this.repo.tenantsBySerial(serials);
    const rows: DeviceLogRow[] = entries.map(({ message, occurrences, ctx }) => ({
      tenantId: (ctx.serialNumber && tenants.get(ctx.serialNumber)) || null,
      passTypeIdentifier: ctx.passTypeIdentifier ?? null,
      serialNumber: ctx.serialNumber ?? null,
      deviceLibraryIdentifier: ctx.deviceLibraryIdentifier ?? null,
      message,
      occurrences,
    }));
    await this.repo.append(rows, {
      perTenant: DEVICE_LOGS_KEPT_PER_TENANT,
      unattributed: DEVICE_LOGS_KEPT_UNATTRIBUTED,
    });
    const attributed = rows.filter((r) => r.tenantId !== null);
    const first = rows[0];
    this.logger.warn(
      {
        clientIp,
        messages: messages.length,
        distinct: rows.length,
        unattributed: rows.length - attributed.length,
        tenantIds: [...new Set(attributed.map((r) => r.tenantId))].slice(0, 10),
        serialNumber: first?.serialNumber ?? undefined,
        passTypeIdentifier: first?.passTypeIdentifier ?? undefined,
        sample: first ? first.message.slice(0, SAMPLE_LENGTH) : undefined,
      },
      'Wallet device logs received',
    );
  }

  /** A tenant's newest device messages, for diagnosis. */
  recent(tenantId: string, limit = 100): Promise<StoredDeviceLog[]> {
    return this.repo.recent(tenantId, Math.min(Math.max(limit, 1), DEVICE_LOGS_KEPT_PER_TENANT));
  }
}
