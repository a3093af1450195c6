import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { MicroBatcher } from '../../common/batching/micro-batcher';

/** What the web service needs of a pass to authenticate a device's request. */
export interface PassCredentials {
  id: string;
  tenantId: string;
  passTypeIdentifier: string | null;
  authenticationToken: string;
}

export interface RegisteredPass {
  serialNumber: string;
  /** The effective change tag: GREATEST(passes.change_seq, campaigns.change_seq). */
  changeSeq: bigint;
  /**
   * A tag below which every change was visible to the statement that read this row (the same for
   * every row of one lookup, or lower for rows that did not need the exact horizon).
   */
  lastUpdated: bigint;
}

export interface PushTarget {
  pushToken: string;
  passTypeIdentifier: string;
}

export interface RegistrationInput {
  deviceLibraryIdentifier: string;
  pushToken: string;
  passTypeIdentifier: string;
  serialNumber: string;
  authenticationToken: string;
}

export interface RegistrationOutcome {
  authenticated: boolean;
  created: boolean;
}

interface SerialRow {
  serial_number: string;
  change_seq: string;
  last_updated: string;
}

const FOREIGN_KEY_VIOLATION = '23503';
const DEADLOCK_DETECTED = '40P01';

/**
 * Devices and their registrations; each registration carries the push token its pass type is
 * pushed with on that device. Lock order everywhere: the device row first, then its
 * registrations — registering takes the device row lock in its upsert, unregistering and token
 * removal take it with FOR UPDATE before touching registrations — so the two never deadlock, and
 * a device is deleted only by a statement that started after every concurrent registration for
 * it committed.
 */
/** Keeps a row per ended registration (for the campaign page's "devices removed" per day). */
const RECORD_REMOVALS_SQL = `INSERT INTO registration_removals (tenant_id, campaign_id, pass_id, registered_at)
  SELECT p.tenant_id, p.campaign_id, g.pass_id, g.created_at FROM gone g JOIN passes p ON p.id = g.pass_id
  RETURNING 1`;

@Injectable()
export class AppleDevicesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The hot statements (registration, serial list) run as named prepared statements on
   * TypeORM's own pg pool: each connection parses and plans them once instead of per request.
   */
  private async prepared<R extends QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<R[]> {
    const pool = (this.db.driver as PostgresDriver).master as Pool;
    return (await pool.query<R>({ name, text, values })).rows;
  }

  async passCredentials(serialNumber: string): Promise<PassCredentials | null> {
    const rows = await this.prepared<{
      id: string;
      tenant_id: string;
      pass_type_identifier: string | null;
      authentication_token: string;
    }>(
      'apple_pass_credentials',
      `SELECT id, tenant_id, pass_type_identifier, authentication_token FROM passes WHERE serial_number = $1`,
      [serialNumber],
    );
    const r = rows[0];
    return r
      ? {
          id: r.id,
          tenantId: r.tenant_id,
          passTypeIdentifier: r.pass_type_identifier,
          authenticationToken: r.authentication_token,
        }
      : null;
  }

  /**
   * Authenticates and registers (see REGISTER_SQL). `authenticated` is false for an unknown
   * serial, another pass type or a wrong token (and for a pass deleted meanwhile); `created` tells
   * a new registration (201) from an existing one (200).
   *
   * Registrations arriving together are written by one statement (REGISTER_BATCH_SQL, through a
   * MicroBatcher keyed by device, so one statement never upserts a device twice): one round trip,
   * one plan execution and one commit for the batch instead of per request.
   */
  register(input: RegistrationInput): Promise<RegistrationOutcome> {
    return this.registrations.submit(input);
  }

  private readonly registrations = new MicroBatcher<RegistrationInput, RegistrationOutcome>({
    run: (items) => this.registerBatch(items),
    maxBatch: 128,
    maxInFlight: 4,
    keyOf: (i) => i.deviceLibraryIdentifier,
  });

  private async registerBatch(items: RegistrationInput[]): Promise<RegistrationOutcome[]> {
    if (items.length === 1) return [await this.registerOne(items[0]!)];
    try {
      const rows = await this.prepared<{ ord: string; authenticated: boolean; created: boolean }>(
        'apple_register_batch',
        REGISTER_BATCH_SQL,
        [
          items.map((i) => i.deviceLibraryIdentifier),
          items.map((i) => i.pushToken),
          items.map((i) => i.serialNumber),
          items.map((i) => i.passTypeIdentifier),
          items.map((i) => i.authenticationToken),
        ],
      );
      const out: RegistrationOutcome[] = items.map(() => ({ authenticated: false, created: false }));
      for (const r of rows) out[Number(r.ord) - 1] = { authenticated: r.authenticated, created: r.created };
      return out;
    } catch (err) {
      // A pass deleted mid-statement (foreign key) or a lock cycle with another replica's batch
      // (deadlock) fails the whole statement; nothing of it was written. One by one, each
      // registration gets its own answer.
      const code = (err as { code?: string }).code;
      if (code !== FOREIGN_KEY_VIOLATION && code !== DEADLOCK_DETECTED) throw err;
      return Promise.all(items.map((i) => this.registerOne(i)));
    }
  }

  private async registerOne(input: RegistrationInput): Promise<RegistrationOutcome> {
    try {
      const rows = await this.prepared<RegistrationOutcome>('apple_register', REGISTER_SQL, [
        input.deviceLibraryIdentifier,
        input.pushToken,
        input.serialNumber,
        input.passTypeIdentifier,
        input.authenticationToken,
      ]);
      return rows[0] ?? { authenticated: false, created: false };
    } catch (err) {
      if ((err as { code?: string }).code === FOREIGN_KEY_VIOLATION)
        return { authenticated: false, created: false };
      throw err;
    }
  }

  /** Removes the registration, and the device when it has no registration left. True when one was removed. */
  async unregister(deviceLibraryIdentifier: string, passId: string): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const device = await m.query<{ id: string }[]>(
        `SELECT id FROM devices WHERE device_library_identifier = $1 FOR UPDATE`,
        [deviceLibraryIdentifier],
      );
      const deviceId = device[0]?.id;
      if (deviceId === undefined) return false;
      const removed = await m.query<unknown[]>(
        `WITH gone AS (DELETE FROM registrations WHERE device_id = $1 AND pass_id = $2 RETURNING pass_id, created_at)
         ${RECORD_REMOVALS_SQL}`,
        [deviceId, passId],
      );
      await this.deleteDevicesWithoutRegistrations(m, [deviceId]);
      return removed.length > 0;
    });
  }

  /**
   * The device's registered passes of one pass type, with their effective change sequence.
   * Lookups arriving together share one statement (SERIAL_LIST_BATCH_SQL), like registrations.
   */
  registeredPasses(deviceLibraryIdentifier: string, passTypeIdentifier: string): Promise<RegisteredPass[]> {
    return this.serialLists.submit({ deviceLibraryIdentifier, passTypeIdentifier });
  }

  private readonly serialLists = new MicroBatcher<
    { deviceLibraryIdentifier: string; passTypeIdentifier: string },
    RegisteredPass[]
  >({
    run: (items) => this.registeredPassesBatch(items),
    maxBatch: 128,
    maxInFlight: 4,
  });

  private async registeredPassesBatch(
    items: { deviceLibraryIdentifier: string; passTypeIdentifier: string }[],
  ): Promise<RegisteredPass[][]> {
    const toPass = (r: SerialRow): RegisteredPass => ({
      serialNumber: r.serial_number,
      changeSeq: BigInt(r.change_seq),
      lastUpdated: BigInt(r.last_updated),
    });
    if (items.length === 1) {
      const [only] = items as [{ deviceLibraryIdentifier: string; passTypeIdentifier: string }];
      const rows = await this.prepared<SerialRow>('apple_serial_list', SERIAL_LIST_SQL, [
        only.deviceLibraryIdentifier,
        only.passTypeIdentifier,
      ]);
      return [rows.map(toPass)];
    }
    const rows = await this.prepared<SerialRow & { ord: string }>(
      'apple_serial_list_batch',
      SERIAL_LIST_BATCH_SQL,
      [items.map((i) => i.deviceLibraryIdentifier), items.map((i) => i.passTypeIdentifier)],
    );
    const out: RegisteredPass[][] = items.map(() => []);
    for (const r of rows) out[Number(r.ord) - 1]!.push(toPass(r));
    return out;
  }

  async countDevicesByCampaign(tenantId: string, campaignId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }[]>(
      `SELECT count(DISTINCT r.device_id)::int AS n
         FROM passes p JOIN registrations r ON r.pass_id = p.id
        WHERE p.tenant_id = $1 AND p.campaign_id = $2`,
      [tenantId, campaignId],
    );
    return rows[0]?.n ?? 0;
  }

  async countDevicesForPass(passId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM registrations WHERE pass_id = $1`,
      [passId],
    );
    return rows[0]?.n ?? 0;
  }

  async pushTargetsForPass(passId: string): Promise<PushTarget[]> {
    const rows = await this.db.query<{ push_token: string; pass_type_identifier: string }[]>(
      `SELECT DISTINCT r.push_token, p.pass_type_identifier
         FROM registrations r
         JOIN passes p ON p.id = r.pass_id
        WHERE r.pass_id = $1 AND p.pass_type_identifier IS NOT NULL
        ORDER BY r.push_token`,
      [passId],
    );
    return rows.map((r) => ({ pushToken: r.push_token, passTypeIdentifier: r.pass_type_identifier }));
  }

  /** The distinct (pass type, push token) pairs registered for any of the passes, in that order. */
  async pushTargetsForPasses(passIds: string[]): Promise<PushTarget[]> {
    const rows = await this.db.query<{ push_token: string; pass_type_identifier: string }[]>(
      `SELECT DISTINCT p.pass_type_identifier, r.push_token
         FROM registrations r
         JOIN passes p ON p.id = r.pass_id
        WHERE r.pass_id = ANY($1::uuid[]) AND p.pass_type_identifier IS NOT NULL
        ORDER BY p.pass_type_identifier, r.push_token`,
      [passIds],
    );
    return rows.map((r) => ({ pushToken: r.push_token, passTypeIdentifier: r.pass_type_identifier }));
  }

  /**
   * Deletes the registrations that still carry one of `pushTokens` (a registration given a new
   * token meanwhile is kept) among those pushed under `passTypeIdentifier` with the wallet
   * configuration's certificate, then devices left without registrations. Registrations of other
   * pass types or configurations are untouched, even with the same token. Returns the number of
   * registrations deleted.
   */
  async deleteRegistrationsForPushTokens(target: {
    pushTokens: string[];
    passTypeIdentifier: string;
    walletConfigurationId: string;
  }): Promise<number> {
    const params = [target.pushTokens, target.passTypeIdentifier, target.walletConfigurationId];
    const scope = `r.push_token = ANY($1::text[]) AND p.id = r.pass_id AND p.pass_type_identifier = $2
        AND c.id = p.campaign_id AND c.wallet_configuration_id = $3`;
    return this.db.transaction(async (m) => {
      const candidates = await m.query<{ device_id: string }[]>(
        `SELECT DISTINCT r.device_id FROM registrations r, passes p, campaigns c WHERE ${scope}`,
        params,
      );
      if (candidates.length === 0) return 0;
      const devices = await m.query<{ id: string }[]>(
        `SELECT id FROM devices WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        [candidates.map((c) => c.device_id)],
      );
      const ids = devices.map((d) => d.id);
      const removed = await m.query<unknown[]>(
        `WITH gone AS (
           DELETE FROM registrations r USING passes p, campaigns c
            WHERE r.device_id = ANY($4::uuid[]) AND ${scope}
           RETURNING r.pass_id, r.created_at)
         ${RECORD_REMOVALS_SQL}`,
        [...params, ids],
      );
      await this.deleteDevicesWithoutRegistrations(m, ids);
      return removed.length;
    });
  }

  /** Caller holds the devices' row locks, so no registration for them can be in flight. */
  private async deleteDevicesWithoutRegistrations(m: EntityManager, deviceIds: string[]): Promise<void> {
    await m.query(
      `DELETE FROM devices d WHERE d.id = ANY($1::uuid[])
          AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.device_id = d.id)`,
      [deviceIds],
    );
  }
}

/**
 * Registration in one round trip and one commit: find the pass by serial and pass type with the
 * request's token, upsert the device (its row lock orders concurrent registrations of one device
 * and its removal), insert the registration with its push token or give the existing one the new
 * token, and give the token to the device's other registrations of the same pass type too — never
 * to those of another pass type: one pass type's registration cannot redirect another's pushes.
 * `xmax = 0` tells a row the upsert inserted from one it updated.
 *
 * The token is compared as SHA-256 digests, like constantTimeEquals does in JavaScript: how long
 * the comparison takes depends only on digests a caller cannot steer, never on how much of the
 * token was right. Nothing is written unless the pass authenticates.
 */
export const REGISTER_SQL = `WITH pass AS (
     SELECT id, tenant_id FROM passes
      WHERE serial_number = $3::text AND pass_type_identifier = $4::text
        AND sha256(convert_to(authentication_token, 'UTF8')) = sha256(convert_to($5::text, 'UTF8'))
   ), device AS (
     INSERT INTO devices (device_library_identifier)
     SELECT $1::text FROM pass
     ON CONFLICT (device_library_identifier) DO UPDATE SET updated_at = now()
     RETURNING id
   ), registration AS (
     INSERT INTO registrations (device_id, pass_id, tenant_id, push_token)
     SELECT device.id, pass.id, pass.tenant_id, $2::text FROM device CROSS JOIN pass
     ON CONFLICT (device_id, pass_id) DO UPDATE SET push_token = EXCLUDED.push_token
       WHERE registrations.push_token <> EXCLUDED.push_token
     RETURNING xmax = 0 AS inserted
   ), same_type AS (
     UPDATE registrations r SET push_token = $2::text
       FROM device, pass, passes other
      WHERE r.device_id = device.id AND r.pass_id <> pass.id AND r.push_token <> $2::text
        AND other.id = r.pass_id AND other.pass_type_identifier = $4::text
   )
   SELECT EXISTS (SELECT 1 FROM pass) AS authenticated,
          EXISTS (SELECT 1 FROM registration WHERE inserted) AS created`;

/**
 * REGISTER_SQL for many registrations of distinct devices at once: parameters are parallel arrays
 * (device library identifier, push token, serial, pass type, token); one row per input, by its
 * 1-based position `ord`. Devices are upserted and registrations inserted in key order, so two
 * concurrent batches lock rows in the same order.
 */
export const REGISTER_BATCH_SQL = `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
         AS i(device_library_identifier, push_token, serial_number, pass_type_identifier, token, ord)
   ), pass AS (
     SELECT i.ord, i.device_library_identifier, i.push_token, i.pass_type_identifier, p.id, p.tenant_id
       FROM input i
       JOIN passes p ON p.serial_number = i.serial_number AND p.pass_type_identifier = i.pass_type_identifier
        AND sha256(convert_to(p.authentication_token, 'UTF8')) = sha256(convert_to(i.token, 'UTF8'))
   ), device AS (
     INSERT INTO devices (device_library_identifier)
     SELECT device_library_identifier FROM pass ORDER BY device_library_identifier
     ON CONFLICT (device_library_identifier) DO UPDATE SET updated_at = now()
     RETURNING id, device_library_identifier
   ), owned AS (
     SELECT pass.*, d.id AS device_id
       FROM pass JOIN device d ON d.device_library_identifier = pass.device_library_identifier
   ), registration AS (
     INSERT INTO registrations (device_id, pass_id, tenant_id, push_token)
     SELECT device_id, id, tenant_id, push_token FROM owned ORDER BY device_id, id
     ON CONFLICT (device_id, pass_id) DO UPDATE SET push_token = EXCLUDED.push_token
       WHERE registrations.push_token <> EXCLUDED.push_token
     RETURNING device_id, pass_id, xmax = 0 AS inserted
   ), same_type AS (
     UPDATE registrations r SET push_token = o.push_token
       FROM owned o, passes other
      WHERE r.device_id = o.device_id AND r.pass_id <> o.id AND r.push_token <> o.push_token
        AND other.id = r.pass_id AND other.pass_type_identifier = o.pass_type_identifier
   )
   SELECT i.ord, o.id IS NOT NULL AS authenticated, COALESCE(r.inserted, false) AS created
     FROM input i
     LEFT JOIN owned o ON o.ord = i.ord
     LEFT JOIN registration r ON r.device_id = o.device_id AND r.pass_id = o.id`;

/**
 * Index path: devices_library_identifier_unique → registrations primary key (device_id prefix) →
 * passes_pkey → campaigns_pkey. A device holds a handful of passes, so this stays a few index
 * probes however many registrations exist.
 *
 * `last_updated` is the tag the device may send next time: every change this statement could not
 * see has a larger tag (see migration 1732260001000). It is the cheap floor (the snapshot's xmin)
 * while every tag read lies below it, and the horizon — which ignores transactions of other
 * databases — only when a row needs it; both are InitPlans, evaluated once per statement and only
 * when referenced.
 */
export const SERIAL_LIST_SQL = `SELECT p.serial_number, t.tag::text AS change_seq,
        (CASE WHEN t.tag > (SELECT wallet_change_floor()) THEN (SELECT wallet_change_horizon())
              ELSE (SELECT wallet_change_floor()) END)::text AS last_updated
   FROM devices d
   JOIN registrations r ON r.device_id = d.id
   JOIN passes p ON p.id = r.pass_id
   JOIN campaigns c ON c.id = p.campaign_id
   CROSS JOIN LATERAL (SELECT GREATEST(p.change_seq, c.change_seq) AS tag) t
  WHERE d.device_library_identifier = $1 AND p.pass_type_identifier = $2`;

/** SERIAL_LIST_SQL for several (device, pass type) lookups: parallel arrays, rows tagged by 1-based `ord`. */
export const SERIAL_LIST_BATCH_SQL = `SELECT i.ord, p.serial_number, t.tag::text AS change_seq,
        (CASE WHEN t.tag > (SELECT wallet_change_floor()) THEN (SELECT wallet_change_horizon())
              ELSE (SELECT wallet_change_floor()) END)::text AS last_updated
   FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(device_library_identifier, pass_type_identifier, ord)
   JOIN devices d ON d.device_library_identifier = i.device_library_identifier
   JOIN registrations r ON r.device_id = d.id
   JOIN passes p ON p.id = r.pass_id AND p.pass_type_identifier = i.pass_type_identifier
   JOIN campaigns c ON c.id = p.campaign_id
   CROSS JOIN LATERAL (SELECT GREATEST(p.change_seq, c.change_seq) AS tag) t`;
