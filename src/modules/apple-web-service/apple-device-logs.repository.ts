import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface DeviceLogRow {
  tenantId: string | null;
  passTypeIdentifier: string | null;
  serialNumber: string | null;
  deviceLibraryIdentifier: string | null;
  message: string;
}

export interface StoredDeviceLog extends Omit<DeviceLogRow, 'tenantId'> {
  createdAt: Date;
}

/** Messages devices post to /v1/log, kept per tenant (NULL: no known pass named) and trimmed. */
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

  /** Inserts the rows, then keeps only the newest `keep` rows of every tenant bucket written to. */
  async append(rows: DeviceLogRow[], keep: number): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `INSERT INTO device_logs (tenant_id, pass_type_identifier, serial_number, device_library_identifier, message)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])`,
      [
        rows.map((r) => r.tenantId),
        rows.map((r) => r.passTypeIdentifier),
        rows.map((r) => r.serialNumber),
        rows.map((r) => r.deviceLibraryIdentifier),
        rows.map((r) => r.message),
      ],
    );
    const tenants = new Set(rows.map((r) => r.tenantId));
    for (const tenantId of tenants) {
      const bucket = tenantId === null ? 'tenant_id IS NULL' : 'tenant_id = $2';
      await this.db.query(
        `DELETE FROM device_logs
          WHERE ${bucket}
            AND id < (SELECT id FROM device_logs WHERE ${bucket} ORDER BY id DESC OFFSET $1 LIMIT 1)`,
        tenantId === null ? [keep - 1] : [keep - 1, tenantId],
      );
    }
  }

  /** The tenant's newest messages first. */
  async recent(tenantId: string, limit: number): Promise<StoredDeviceLog[]> {
    const rows = await this.db.query<
      {
        pass_type_identifier: string | null;
        serial_number: string | null;
        device_library_identifier: string | null;
        message: string;
        created_at: Date;
      }[]
    >(
      `SELECT pass_type_identifier, serial_number, device_library_identifier, message, created_at
         FROM device_logs WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`,
      [tenantId, limit],
    );
    return rows.map((r) => ({
      passTypeIdentifier: r.pass_type_identifier,
      serialNumber: r.serial_number,
      deviceLibraryIdentifier: r.device_library_identifier,
      message: r.message,
      createdAt: r.created_at,
    }));
  }
}
