import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { PersonalisationData, PersonalisationValue } from '../../domain/pass-design/campaign-template';
import { PASS_CHANGED_SET } from './change-tracking';
import { Pass } from './pass.entity';

interface PassRow {
  id: string;
  tenant_id: string;
  campaign_id: string;
  identity: string;
  serial_number: string;
  authentication_token: string;
  pass_type_identifier: string | null;
  data: PersonalisationData;
  apple_issued_at: Date | null;
  google_object_id: string | null;
  google_object_synced_at: Date | null;
  google_sync_error: string | null;
  voided: boolean;
  change_seq: string;
  created_at: Date;
  updated_at: Date;
}

export function toPass(r: PassRow): Pass {
  return Object.assign(new Pass(), {
    id: r.id,
    tenantId: r.tenant_id,
    campaignId: r.campaign_id,
    identity: r.identity,
    serialNumber: r.serial_number,
    authenticationToken: r.authentication_token,
    passTypeIdentifier: r.pass_type_identifier,
    data: r.data,
    appleIssuedAt: r.apple_issued_at,
    googleObjectId: r.google_object_id,
    googleObjectSyncedAt: r.google_object_synced_at,
    googleSyncError: r.google_sync_error,
    voided: r.voided,
    changeSeq: r.change_seq,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

@Injectable()
export class PassesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The pass for (campaign, identity), created on first use. The unique index decides between
   * concurrent taps: the loser's insert does nothing and it reads the winner's row.
   */
  async findOrCreate(input: {
    tenantId: string;
    campaignId: string;
    identity: string;
    serialNumber: string;
    authenticationToken: string;
    passTypeIdentifier: string | null;
    data: PersonalisationData;
    /** Mark the pass as added to Apple Wallet in the same statement. */
    appleIssued?: boolean;
  }): Promise<{ pass: Pass; created: boolean }> {
    // One round trip in the common cases: the insert, or (conflict) the existing row.
    const rows = await this.db.query<(PassRow & { created: boolean })[]>(
      `WITH ins AS (
         INSERT INTO passes (tenant_id, campaign_id, identity, serial_number, authentication_token, pass_type_identifier, data, apple_issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::boolean THEN now() END)
         ON CONFLICT (campaign_id, identity) DO NOTHING
         RETURNING *, true AS created)
       SELECT * FROM ins
       UNION ALL
       SELECT *, false AS created FROM passes WHERE campaign_id = $2 AND identity = $3 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [
        input.tenantId,
        input.campaignId,
        input.identity,
        input.serialNumber,
        input.authenticationToken,
        input.passTypeIdentifier,
        JSON.stringify(input.data),
        input.appleIssued ?? false,
      ],
    );
    if (rows[0]) return { pass: toPass(rows[0]), created: rows[0].created };
    // A concurrent insert committed after this statement's snapshot: read it now.
    const existing = await this.db.query<PassRow[]>(
      `SELECT * FROM passes WHERE campaign_id = $1 AND identity = $2`,
      [input.campaignId, input.identity],
    );
    if (!existing[0]) throw new Error('pass vanished between insert and select');
    return { pass: toPass(existing[0]), created: false };
  }

  async markAppleIssued(passId: string, passTypeIdentifier: string): Promise<void> {
    await this.db.query(
      `UPDATE passes SET apple_issued_at = COALESCE(apple_issued_at, now()),
         pass_type_identifier = COALESCE(pass_type_identifier, $2)
       WHERE id = $1`,
      [passId, passTypeIdentifier],
    );
  }

  async markGoogleObject(passId: string, objectId: string, error: string | null): Promise<void> {
    await this.db.query(
      `UPDATE passes SET google_object_id = $2,
         google_object_synced_at = CASE WHEN $3::text IS NULL THEN now() ELSE google_object_synced_at END,
         google_sync_error = $3
       WHERE id = $1`,
      [passId, objectId, error],
    );
  }

  async recordGoogleError(passId: string, error: string): Promise<void> {
    await this.db.query(`UPDATE passes SET google_sync_error = $2 WHERE id = $1`, [passId, error]);
  }

  /** The Google objects of these passes were patched: forget earlier sync errors. */
  async clearGoogleErrors(passIds: string[]): Promise<void> {
    if (passIds.length === 0) return;
    await this.db.query(
      `UPDATE passes SET google_sync_error = NULL WHERE id = ANY($1::uuid[]) AND google_sync_error IS NOT NULL`,
      [passIds],
    );
  }

  async findById(id: string): Promise<Pass | null> {
    const rows = await this.db.query<PassRow[]>(`SELECT * FROM passes WHERE id = $1`, [id]);
    return rows[0] ? toPass(rows[0]) : null;
  }

  async findBySerial(serialNumber: string): Promise<Pass | null> {
    const rows = await this.db.query<PassRow[]>(`SELECT * FROM passes WHERE serial_number = $1`, [
      serialNumber,
    ]);
    return rows[0] ? toPass(rows[0]) : null;
  }

  /**
   * Merges attributes into many passes of one campaign, inside the caller's transaction. The
   * passes are locked in id order first, so that two batches touching the same passes wait for
   * each other instead of deadlocking. Passes whose data would not change are
   * left alone; passes whose merged contact and voucher would exceed `maxBytes` as JSON are not
   * changed and come back in `tooLarge`.
   */
  async mergeDataMany(
    m: EntityManager,
    tenantId: string,
    campaignId: string,
    changes: {
      passId: string;
      contact: Record<string, PersonalisationValue>;
      voucher: Record<string, PersonalisationValue>;
    }[],
    maxBytes: number,
  ): Promise<{ changed: { id: string; google: boolean }[]; tooLarge: string[] }> {
    if (changes.length === 0) return { changed: [], tooLarge: [] };
    await m.query(
      `SELECT 1 FROM passes WHERE id = ANY($3::uuid[]) AND tenant_id = $1 AND campaign_id = $2
        ORDER BY id FOR UPDATE`,
      [tenantId, campaignId, changes.map((c) => c.passId)],
    );
    const rows = await m.query<{ outcome: 'changed' | 'too-large'; id: string; google: boolean }[]>(
      `WITH c AS (
         SELECT * FROM unnest($3::uuid[], $4::jsonb[], $5::jsonb[]) AS c(id, contact, voucher)),
       n AS (
         SELECT p.id, p.data AS old,
                p.data || jsonb_build_object(
                  'contact', COALESCE(p.data->'contact', '{}'::jsonb) || c.contact,
                  'voucher', COALESCE(p.data->'voucher', '{}'::jsonb) || c.voucher) AS merged
           FROM passes p JOIN c ON c.id = p.id
          WHERE p.tenant_id = $1 AND p.campaign_id = $2),
       u AS (
         UPDATE passes p SET data = n.merged, ${PASS_CHANGED_SET}
           FROM n
          WHERE p.id = n.id AND n.merged <> n.old
            AND octet_length((n.merged->'contact')::text) + octet_length((n.merged->'voucher')::text) <= $6
         RETURNING p.id, (p.google_object_id IS NOT NULL AND p.google_object_synced_at IS NOT NULL) AS google)
       SELECT 'changed' AS outcome, id, google FROM u
       UNION ALL
       SELECT 'too-large', id, false FROM n
        WHERE octet_length((n.merged->'contact')::text) + octet_length((n.merged->'voucher')::text) > $6`,
      [
        tenantId,
        campaignId,
        changes.map((c) => c.passId),
        changes.map((c) => JSON.stringify(c.contact)),
        changes.map((c) => JSON.stringify(c.voucher)),
        maxBytes,
      ],
    );
    const changed: { id: string; google: boolean }[] = [];
    const tooLarge: string[] = [];
    for (const r of rows) {
      if (r.outcome === 'changed') changed.push({ id: r.id, google: r.google });
      else tooLarge.push(r.id);
    }
    return { changed, tooLarge };
  }
}
