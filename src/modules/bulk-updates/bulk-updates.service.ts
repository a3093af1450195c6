import { Injectable } from '@nestjs/common';
import { createHash, Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { DomainError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { CampaignsService } from '../campaigns/campaigns.service';
import { OutboxService } from '../outbox/outbox.service';
import {
  BulkRow,
  BulkRowError,
  BulkRowResult,
  csvRow,
  CsvHeader,
  MAX_ROW_CHARS,
  ndjsonRow,
  parseCsvHeader,
} from './bulk-row';
import { BulkUpdateRow, BulkUpdatesRepository } from './bulk-updates.repository';
import { CsvRecordParser, LineSplitter } from './csv-record-parser';
import { BulkUpdateDto } from './dto/bulk-update.dto';

export const BULK_UPDATE_MEDIA_TYPES = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' } as const;
type Format = (typeof BULK_UPDATE_MEDIA_TYPES)[keyof typeof BULK_UPDATE_MEDIA_TYPES];

/** Rows staged per statement while an upload streams in. */
const STAGE_BATCH_ROWS = 5_000;
/** Error report rows read per query while the report streams out. */
const ERRORS_PAGE = 5_000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface BulkUpload {
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  body: unknown;
}

/**
 * Receives bulk pass updates: the upload is read as a stream, parsed and checked row by row, and
 * staged in the database in batches, so memory does not grow with its size. Once complete, one
 * outbox fact hands it to the worker, which applies it (BulkUpdatesApplier).
 */
@Injectable()
export class BulkUpdatesService {
  constructor(
    private readonly repo: BulkUpdatesRepository,
    private readonly campaigns: CampaignsService,
    private readonly outbox: OutboxService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async upload(
    tenantId: string,
    campaignId: string,
    input: BulkUpload,
  ): Promise<{ id: string; status: BulkUpdateDto['status'] }> {
    const body = input.body;
    const format = formatOf(input.contentType);
    if (!format || !(body instanceof Readable)) {
      drain(body);
      throw new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Upload the rows as Content-Type text/csv or application/x-ndjson (UTF-8)',
        [{ field: 'content-type', message: 'must be text/csv or application/x-ndjson' }],
      );
    }
    try {
      const key = input.idempotencyKey ?? null;
      if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
        throw DomainError.validation('Idempotency-Key', 'must be 1-255 visible ASCII characters');
      }
      const campaign = await this.campaigns.getEntity(tenantId, campaignId);
      if (campaign.status === 'ended') {
        throw new DomainError('CAMPAIGN_ENDED', 'Campaign has ended; its passes cannot change');
      }
      const hash = createHash('sha256').update(`${format}\n${campaignId}\n`);
      const created = await this.repo.create(tenantId, campaignId, format, key);
      if ('existing' in created) return await this.replay(created.existing, created.receiving, body, hash);
      const id = created.created;
      try {
        const { total, failed } = await this.receive(id, tenantId, format, body, hash);
        const digest = hash.digest('hex');
        await this.repo.transaction(async (m) => {
          await this.repo.markReceived(m, id, digest, total, failed);
          await this.outbox.add(m, tenantId, 'bulk.apply', { tenantId, bulkUpdateId: id });
        });
        return { id, status: 'QUEUED' };
      } catch (err) {
        await this.repo.deleteUpload(id).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      drain(body);
      throw err;
    }
  }

  async get(tenantId: string, campaignId: string, id: string): Promise<BulkUpdateDto> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const row = await this.repo.find(tenantId, campaignId, id);
    if (!row) throw DomainError.notFound('BULK_UPDATE_NOT_FOUND', 'Bulk update');
    return toDto(row);
  }

  /** The error report as NDJSON lines, read from the database page by page as it is sent. */
  async errors(tenantId: string, campaignId: string, id: string): Promise<Readable> {
    await this.get(tenantId, campaignId, id);
    const repo = this.repo;
    async function* lines(): AsyncGenerator<string> {
      let after = 0;
      for (;;) {
        const page = await repo.errorsPage(tenantId, id, after, ERRORS_PAGE);
        if (page.length === 0) return;
        let out = '';
        for (const e of page) {
          out += `${JSON.stringify({ line: e.line, error: { code: e.code, message: e.message } })}\n`;
        }
        yield out;
        after = page[page.length - 1]!.line;
        if (page.length < ERRORS_PAGE) return;
      }
    }
    return Readable.from(lines());
  }

  /** The same key again: the same upload gets the same update, a different one is refused. */
  private async replay(
    existing: BulkUpdateRow,
    receiving: boolean,
    body: Readable,
    hash: Hash,
  ): Promise<{ id: string; status: BulkUpdateDto['status'] }> {
    if (receiving) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_IN_USE',
        'An upload with this Idempotency-Key is still being received; retry when it has finished',
      );
    }
    for await (const chunk of body.iterator({ destroyOnReturn: false })) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== existing.request_hash) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was used for a different upload (another body, format or campaign)',
        [{ field: 'Idempotency-Key', message: 'already used for a different upload' }],
      );
    }
    return { id: existing.id, status: publicStatus(existing.status) };
  }

  /** Reads, checks and stages the whole upload; returns the number of data rows and of bad ones. */
  private async receive(
    id: string,
    tenantId: string,
    format: Format,
    body: Readable,
    hash: Hash,
  ): Promise<{ total: number; failed: number }> {
    const maxRows = this.config.bulkUpdateMaxRows;
    const decoder = new StringDecoder('utf8');
    let rows: BulkRow[] = [];
    let errors: BulkRowError[] = [];
    let total = 0;
    let failed = 0;
    // One batch is written while the next one is parsed: reading waits only when a second batch
    // is ready before the first is in the database (so at most two batches are in memory).
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      if (rows.length === 0 && errors.length === 0) return;
      const r = rows;
      const e = errors;
      rows = [];
      errors = [];
      await writing;
      writing = this.repo.stage(id, tenantId, r, e);
      // A failed write surfaces at the next flush or at the end; this keeps it from going unhandled.
      writing.catch(() => undefined);
    };
    const take = (result: BulkRowResult | null) => {
      if (result === null) return;
      total++;
      if (total > maxRows) {
        throw new DomainError(
          'BULK_UPDATE_TOO_LARGE',
          `A bulk update takes at most ${maxRows} rows; split the upload`,
          undefined,
          { Connection: 'close' },
        );
      }
      if (result.ok) rows.push(result.row);
      else {
        errors.push(result.error);
        failed++;
      }
    };

    let header: CsvHeader | undefined;
    const csv = format === 'csv' ? new CsvRecordParser(MAX_ROW_CHARS) : undefined;
    const ndjson = format === 'ndjson' ? new LineSplitter(MAX_ROW_CHARS) : undefined;
    const consume = (text: string, end: boolean) => {
      if (csv) {
        const records = end ? [...csv.push(text), ...csv.end()] : csv.push(text);
        for (const record of records) {
          if (!header) header = parseCsvHeader(record);
          else take(csvRow(header, record));
        }
      } else if (ndjson) {
        const lines = end ? [...ndjson.push(text), ...ndjson.end()] : ndjson.push(text);
        for (const l of lines) {
          take(
            l.tooLong
              ? {
                  ok: false,
                  error: {
                    line: l.line,
                    code: 'ROW_TOO_LONG',
                    message: `the line is longer than ${MAX_ROW_CHARS} characters`,
                  },
                }
              : ndjsonRow(l.line, l.text),
          );
        }
      }
    };

    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      const buf = chunk as Buffer;
      hash.update(buf);
      consume(decoder.write(buf), false);
      if (rows.length + errors.length >= STAGE_BATCH_ROWS) await flush();
    }
    consume(decoder.end(), true);
    if (csv && !header) parseCsvHeader(undefined);
    if (total === 0) {
      await writing;
      throw DomainError.validation('body', 'the upload has no data rows');
    }
    await flush();
    await writing;
    return { total, failed };
  }
}

function formatOf(contentType: string | undefined): Format | undefined {
  if (!contentType) return undefined;
  const [essence, ...params] = contentType.split(';');
  const format = (BULK_UPDATE_MEDIA_TYPES as Record<string, Format>)[essence!.trim().toLowerCase()];
  for (const p of params) {
    const [name, value] = p.split('=').map((s) => s.trim().toLowerCase());
    if (name === 'charset' && value?.replace(/"/g, '') !== 'utf-8' && value?.replace(/"/g, '') !== 'utf8') {
      return undefined;
    }
  }
  return format;
}

/** Lets an unread request body flow to its end, so that the error answer reaches the client. */
function drain(body: unknown): void {
  if (body instanceof Readable && !body.destroyed && !body.readableEnded) body.resume();
}

function publicStatus(status: BulkUpdateRow['status']): BulkUpdateDto['status'] {
  return status === 'RECEIVING' ? 'QUEUED' : status;
}

function toDto(r: BulkUpdateRow): BulkUpdateDto {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    status: publicStatus(r.status),
    total: r.total,
    applied: r.applied,
    failed: r.failed,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
  };
}
