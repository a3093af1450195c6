import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TenantId } from '../../common/auth/auth.decorators';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { BulkUpdatesService } from './bulk-updates.service';
import { BulkUpdateAcceptedDto, BulkUpdateDto } from './dto/bulk-update.dto';
import { StreamedBody } from '../../common/http/input-policy';

const FORMATS =
  'CSV: a header row with one key column (`serialNumber`, `voucher.code` or `contact.id`) and ' +
  '`contact.<field>` / `voucher.<field>` columns; RFC 4180 quoting; an empty unquoted field leaves the ' +
  'attribute unchanged, `""` sets it to the empty string. NDJSON: one ' +
  '`{ "serialNumber" | "voucherCode" | "contactId", "contact"?, "voucher"? }` per line. UTF-8, at most ' +
  '1,000,000 rows (BULK_UPDATE_MAX_ROWS), 65,536 characters per row.';

@ApiTags('passes')
@ApiBearerAuth('api-key')
@Controller('api/v1/campaigns/:id/passes/bulk-updates')
export class BulkUpdatesController {
  constructor(private readonly bulk: BulkUpdatesService) {}

  @Post()
  @HttpCode(202)
  @StreamedBody()
  @ApiOperation({
    summary: 'Change many passes from one CSV or NDJSON upload, applied by the worker',
    description: FORMATS,
  })
  @ApiConsumes('text/csv', 'application/x-ndjson')
  @ApiBody({
    schema: { type: 'string', example: 'serialNumber,voucher.balance\nAbC123,42\n' },
    description: FORMATS,
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      '1-255 visible ASCII characters. The same key and upload again answers the same update; ' +
      'the same key with a different upload answers 422; while the first upload is still being received, 409.',
  })
  @ApiAcceptedResponse({ type: BulkUpdateAcceptedDto })
  @ApiResponse({ status: 400, description: 'Bad header row, empty upload or bad Idempotency-Key' })
  @ApiResponse({ status: 404, description: 'Campaign not found' })
  @ApiResponse({ status: 409, description: 'An upload with this Idempotency-Key is still being received' })
  @ApiResponse({ status: 410, description: 'Campaign ended' })
  @ApiResponse({ status: 413, description: 'More rows than BULK_UPDATE_MAX_ROWS' })
  @ApiResponse({ status: 415, description: 'Not text/csv or application/x-ndjson in UTF-8' })
  @ApiResponse({ status: 422, description: 'Idempotency-Key used for a different upload' })
  create(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Req() req: FastifyRequest,
  ): Promise<BulkUpdateAcceptedDto> {
    const key = req.headers['idempotency-key'];
    return this.bulk.upload(tenantId, id, {
      contentType: req.headers['content-type'],
      idempotencyKey: Array.isArray(key) ? key.join(',') : key,
      body: req.body,
    });
  }

  @Get(':updateId')
  @ApiOperation({ summary: 'Progress of a bulk update' })
  @ApiOkResponse({ type: BulkUpdateDto })
  get(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Param('updateId', UuidPipe) updateId: string,
  ): Promise<BulkUpdateDto> {
    return this.bulk.get(tenantId, id, updateId);
  }

  @Get(':updateId/errors')
  @ApiOperation({
    summary: 'Rows that could not be applied, as NDJSON `{ "line", "error": { "code", "message" } }` by line',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ schema: { type: 'string' } })
  async errors(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Param('updateId', UuidPipe) updateId: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const report = await this.bulk.errors(tenantId, id, updateId);
    await reply
      .status(200)
      .header('Content-Type', 'application/x-ndjson; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .send(report);
  }
}
