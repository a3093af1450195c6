import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { MinRole, TenantId } from '../../common/auth/auth.decorators';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { PaginationQueryDto } from '../../common/pagination/pagination';
import {
  CreatedWebhookResponseDto,
  CreateWebhookDto,
  WebhookDeliveryListResponseDto,
  WebhookDeliveryResponseDto,
  WebhookListResponseDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiBearerAuth('api-key')
@ApiCookieAuth('session')
@ApiErrors(401, 403)
@MinRole('admin')
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedWebhookResponseDto, description: 'The secret is shown only here' })
  @ApiErrors(400)
  create(@TenantId() tenantId: string, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookResponseDto> {
    return this.webhooks.create(tenantId, dto);
  }

  @Get()
  @ApiOkResponse({ type: WebhookListResponseDto })
  async list(@TenantId() tenantId: string): Promise<WebhookListResponseDto> {
    return { items: await this.webhooks.list(tenantId) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Removed with its delivery log; nothing more is sent to it' })
  @ApiErrors(400, 404)
  remove(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.webhooks.remove(tenantId, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: WebhookDeliveryResponseDto,
    description: 'A `ping` event is queued for the endpoint',
  })
  @ApiErrors(400, 404)
  test(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<WebhookDeliveryResponseDto> {
    return this.webhooks.ping(tenantId, id);
  }

  @Get(':id/deliveries')
  @ApiOkResponse({ type: WebhookDeliveryListResponseDto, description: 'Newest first' })
  @ApiErrors(400, 404)
  deliveries(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Query() q: PaginationQueryDto,
  ): Promise<WebhookDeliveryListResponseDto> {
    return this.webhooks.deliveries(tenantId, id, q.limit, q.offset);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: WebhookDeliveryResponseDto,
    description: 'The same event (same id and body) is queued again as a new delivery',
  })
  @ApiErrors(400, 404)
  redeliver(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Param('deliveryId', UuidPipe) deliveryId: string,
  ): Promise<WebhookDeliveryResponseDto> {
    return this.webhooks.redeliver(tenantId, id, deliveryId);
  }
}
