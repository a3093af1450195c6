import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantId } from '../../common/auth/auth.decorators';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { CampaignActivityService } from './campaign-activity.service';
import {
  CampaignImpactDto,
  DailyStatsQueryDto,
  DailyStatsResponseDto,
  DeviceLogsQueryDto,
  DeviceLogsResponseDto,
} from './dto/campaign-activity.dto';

@ApiTags('campaigns')
@ApiBearerAuth('api-key')
@ApiCookieAuth('session')
@ApiErrors(400, 401, 403, 404)
@Controller('api/v1/campaigns/:id')
export class CampaignActivityController {
  constructor(private readonly activity: CampaignActivityService) {}

  @Get('stats/daily')
  @ApiOperation({
    summary: 'Per UTC day: passes issued per platform, devices registered/removed, pushes sent/failed',
  })
  @ApiOkResponse({ type: DailyStatsResponseDto })
  daily(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Query() q: DailyStatsQueryDto,
  ): Promise<DailyStatsResponseDto> {
    return this.activity.daily(tenantId, id, q.days);
  }

  @Get('device-logs')
  @ApiOperation({ summary: "Messages Apple Wallet devices logged about the campaign's passes, newest first" })
  @ApiOkResponse({ type: DeviceLogsResponseDto })
  deviceLogs(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Query() q: DeviceLogsQueryDto,
  ): Promise<DeviceLogsResponseDto> {
    return this.activity.deviceLogs(tenantId, id, q.limit);
  }

  @Get('impact')
  @ApiOperation({
    summary: 'What saving a design change would touch',
    description:
      'Passes updated, Apple devices pushed, Google objects patched — for a confirmation before publishing.',
  })
  @ApiOkResponse({ type: CampaignImpactDto })
  impact(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<CampaignImpactDto> {
    return this.activity.impact(tenantId, id);
  }
}
