import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { Auth, TenantId } from '../../common/auth/auth.decorators';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { Page, PaginationQueryDto } from '../../common/pagination/pagination';
import { ApiKeysService } from './api-keys.service';
import {
  ApiKeyResponseDto,
  CreateApiKeyDto,
  CreatedApiKeyResponseDto,
  CreateTenantDto,
  CreateTenantResponseDto,
} from './dto/tenant.dto';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@Controller('api/v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @Auth('admin')
  @ApiBearerAuth('platform-admin')
  @ApiCreatedResponse({ type: CreateTenantResponseDto })
  create(@Body() dto: CreateTenantDto): Promise<CreateTenantResponseDto> {
    return this.tenants.create(dto.name);
  }
}

@ApiTags('api-keys')
@ApiBearerAuth('api-key')
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  create(@TenantId() tenantId: string, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponseDto> {
    return this.apiKeys.create(tenantId, dto.name);
  }

  @Get()
  list(@TenantId() tenantId: string, @Query() q: PaginationQueryDto): Promise<Page<ApiKeyResponseDto>> {
    return this.apiKeys.list(tenantId, q);
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.apiKeys.revoke(tenantId, id);
  }
}
