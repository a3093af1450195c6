import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TenantId } from '../../common/auth/auth.decorators';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { Page, PaginationQueryDto } from '../../common/pagination/pagination';
import { CampaignsService } from './campaigns.service';
import { CampaignResponseDto, CreateCampaignDto, UpdateCampaignDto } from './dto/campaign.dto';

@ApiTags('campaigns')
@ApiBearerAuth('api-key')
@Controller('api/v1/campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Post()
  @ApiCreatedResponse({ type: CampaignResponseDto })
  create(@TenantId() tenantId: string, @Body() dto: CreateCampaignDto): Promise<CampaignResponseDto> {
    return this.campaigns.create(tenantId, dto);
  }

  @Get()
  list(@TenantId() tenantId: string, @Query() q: PaginationQueryDto): Promise<Page<CampaignResponseDto>> {
    return this.campaigns.list(tenantId, q);
  }

  @Get(':id')
  @ApiOkResponse({ type: CampaignResponseDto })
  get(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<CampaignResponseDto> {
    return this.campaigns.get(tenantId, id);
  }

  /** A changed template or image updates every pass issued from the campaign. */
  @Patch(':id')
  @ApiOkResponse({ type: CampaignResponseDto })
  update(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateCampaignDto,
  ): Promise<CampaignResponseDto> {
    return this.campaigns.update(tenantId, id, dto);
  }

  /** Ends the campaign; its links answer 410 afterwards. */
  @Delete(':id')
  @ApiOkResponse({ type: CampaignResponseDto })
  end(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<CampaignResponseDto> {
    return this.campaigns.end(tenantId, id);
  }
}
