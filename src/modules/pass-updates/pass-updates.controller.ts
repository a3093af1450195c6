import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantId } from '../../common/auth/auth.decorators';
import { DomainError } from '../../common/errors';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { Page, PaginationQueryDto } from '../../common/pagination/pagination';
import {
  CampaignStatsDto,
  CampaignUpdateDto,
  PassDetailDto,
  PassListQueryDto,
  PassPageDto,
  PassResponseDto,
  UpdatePassDto,
} from '../passes/dto/pass.dto';
import { PassUpdatesService } from './pass-updates.service';

const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;
function serialParam(serial: string): string {
  if (!SERIAL.test(serial)) throw DomainError.notFound('PASS_NOT_FOUND', 'Pass');
  return serial;
}

@ApiTags('passes')
@ApiBearerAuth('api-key')
@Controller('api/v1/campaigns/:id')
export class PassUpdatesController {
  constructor(private readonly updates: PassUpdatesService) {}

  @Get('passes')
  @ApiOperation({
    summary: 'Passes issued from the campaign, with their registered Apple devices',
    description: '`q` searches by serial number, voucher code or contact id (exact or prefix).',
  })
  @ApiOkResponse({ type: PassPageDto })
  list(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Query() q: PassListQueryDto,
  ): Promise<Page<PassResponseDto>> {
    return this.updates.list(tenantId, id, q);
  }

  @Get('passes/:serialNumber')
  @ApiOperation({ summary: 'One pass: platforms, registered devices, last push, voided flag, data' })
  @ApiOkResponse({ type: PassDetailDto })
  detail(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Param('serialNumber') serial: string,
  ): Promise<PassDetailDto> {
    return this.updates.detail(tenantId, id, serialParam(serial));
  }

  @Patch('passes/:serialNumber')
  @ApiOperation({
    summary: "Change a pass's contact/voucher data: its devices get a push, its Google object is patched",
  })
  @ApiOkResponse({ type: PassResponseDto })
  update(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Param('serialNumber') serial: string,
    @Body() dto: UpdatePassDto,
  ): Promise<PassResponseDto> {
    return this.updates.update(tenantId, id, serialParam(serial), dto);
  }

  @Post('passes/:serialNumber/void')
  @HttpCode(200)
  @ApiOperation({ summary: 'Void a pass on both platforms (Apple voided: true, Google state INACTIVE)' })
  @ApiOkResponse({ type: PassResponseDto })
  void(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Param('serialNumber') serial: string,
  ): Promise<PassResponseDto> {
    return this.updates.void(tenantId, id, serialParam(serial));
  }

  @Get('stats')
  @ApiOkResponse({ type: CampaignStatsDto })
  stats(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<CampaignStatsDto> {
    return this.updates.stats(tenantId, id);
  }

  @Get('updates')
  @ApiOperation({ summary: 'Campaign-wide updates, newest first, with push progress' })
  listUpdates(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Query() q: PaginationQueryDto,
  ): Promise<CampaignUpdateDto[]> {
    return this.updates.listUpdates(tenantId, id, q);
  }

  @Get('updates/:updateId')
  @ApiOkResponse({ type: CampaignUpdateDto })
  getUpdate(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Param('updateId', UuidPipe) updateId: string,
  ): Promise<CampaignUpdateDto> {
    return this.updates.getUpdate(tenantId, id, updateId);
  }
}
