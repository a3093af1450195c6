import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { Auth, TenantId } from '../../common/auth/auth.decorators';
import { BodyTextCheckedByHandler } from '../../common/http/input-policy';
import { LinksService } from './links.service';

const ITEM_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['campaignId', 'platform', 'contact'],
  properties: {
    campaignId: { type: 'string', format: 'uuid' },
    platform: { type: 'string', enum: ['APPLE', 'GOOGLE'] },
    contact: {
      type: 'object',
      additionalProperties: true,
      description: 'Flat attributes: strings, numbers, booleans or null',
      example: { id: 'c-1', firstName: 'Ada' },
    },
    voucher: {
      type: 'object',
      additionalProperties: true,
      description: 'Flat attributes; code identifies the pass',
      example: { code: 'SUMMER-001', value: '10%' },
    },
    expiresAt: { type: 'string', format: 'date-time', description: 'Optional expiry of this link' },
  },
};

@ApiTags('links')
@ApiBearerAuth('api-key')
@Controller('pers/v1')
export class LinksController {
  constructor(private readonly links: LinksService) {}

  /**
   * Hot path for the email personalisation service: no database read; the API key check may be
   * served from a cache for a few seconds (a revocation clears it at once).
   */
  @Post('urls')
  @HttpCode(200)
  @Auth('tenant-cached')
  @BodyTextCheckedByHandler()
  @ApiOperation({
    summary: 'Sign "Add to Wallet" links in batches',
    description:
      'One result per request, in order: `{ url }`, or `{ error: { code, message } }` for a malformed item. ' +
      'Campaigns are not looked up here; a link for a missing or ended campaign fails when it is used. ' +
      'Token claims: t tenant, c campaign, p platform (A/G), ct contact, v voucher, iat, exp; header kid.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['requests'],
      properties: { requests: { type: 'array', maxItems: 1000, items: ITEM_SCHEMA } },
    },
  })
  @ApiOkResponse({
    schema: { type: 'object', properties: { urls: { type: 'array', items: { type: 'object' } } } },
  })
  async generate(
    @TenantId() tenantId: string,
    @Body() body: Record<string, unknown>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await reply.type('application/json; charset=utf-8').send(this.links.generateJson(tenantId, body));
  }
}
