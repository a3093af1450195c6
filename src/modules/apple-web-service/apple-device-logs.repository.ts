import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface DeviceLogRow {
  tenantId: string | null;
  passTypeIdentifier: string | null;
  serialNumber: string | null;
  deviceLibraryIdentifier: string | null;
  message: string;
  /** How often the message arrived in this request. */
  occurrences: number;
}

export interface StoredDeviceLog extends Omit<DeviceLogRow, 'tenantId'> {
  createdAt: Date;
  lastSeenAt: Date;
}

/** The bucket of a row: its tenant, or this id for messages that name no known pass. */
const BUCKET = `COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)`;
const NO_TENANT = '00000000-0000-0000-0000-000000000000';

/**
 * Messages devices post to /v1/log: one row per bucket (tenant, or no known pass) and distinct
 * message, counting repeats; each bucket trimmed to its newest rows by last sighting.
 */
@Injectable()
export class AppleDeviceLogsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The tenant of each known serial number among `serials`. */
  async tenantsBySerial(serials: string[]): Promise<Map<string, string>> {
    if (serials.length === 0) return new Map();
    const rows = await this.db.query<{ serial_number: string; tenant_id: string }[]>(
      `SELECT serial_number, tenant_id FROM passes WHERE serial_number = ANY($1::text[])`,
      [serials],
    );
    return new Map(rows.map((r) => [r.serial_number, r.tenant_id]));
  }

  /** Adds the rows (a repeat adds to the stored row's count), then trims every bucket written to. */
  async append(rows: DeviceLogRow[], keep: { perTenant: number; unattributed: number }): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `INSERT INTO device_logs
              (tenant_id, pass_type_identifier, serial_number, device_library_identifier, message, occurrences)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
       ON CONFLICT ((${BUCKET}), md5(message)) DO UPDATE
          SET occurrences = device_logs.occurrences + EXCLUDED.occurrences, last_seen_at = now()`,
      [
        rows.map((r) => r.tenantId),
        rows.map((r) => r.passTypeIdentifier),
        rows.map((r) => r.serialNumber),
        rows.map((r) => r.deviceLibraryIdentifier),
        rows.map((r) => r.message),
        rows.map((r) => r.occurrences),
      ],
    );
    const buckets = new Set(rows.map((r) => r.tenantId ?? NO_TENANT));
    for (const bucket of buckets) {
      await this.db.query(
        `DELETE FROM device_logs WHERE id IN (
           SELECT id FROM device_logs WHERE ${BUCKET} = $1::uuid
            ORDER BY last_seen_at DESC, id DESC OFFSET $2)`,
        [bucket, bucket === NO_TENANT ? keep.unattributed : keep.perTenant],
      );
    }
  }

  /** The tenant's most recently seen messages first. */
  async recent(tenantId: string, limit: number): Promise<StoredDeviceLog[]> {
    const rows = await this.db.query<
      {
        pass_type_identifier: string | null;
        serial_number: string | null;
        device_library_identifier: string | null;
        message: string;
        occurrences: string;
        created_at: Date;
        last_seen_at: Date;
      }[]
    >(
      `SELECT pass_type_identifier, serial_number, device_library_identifier, message, occurrences,
              created_at, last_seen_at
         FROM device_logs WHERE ${BUCKET} = $1::uuid ORDER BY last_seen_at DESC, id DESC LIMIT $2`,
      [tenantId, limit],
    );
    return rows.map((r) => ({
      passTypeIdentifier: r.pass_type_identifier,
      serialNumber: r.serial_number,
      deviceLibraryIdentifier: r.device_library_identifier,
      message: r.message,
      occurrences: Number(r.occurrences),
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
    }));
  }
}
