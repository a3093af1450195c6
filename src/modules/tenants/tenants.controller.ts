import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, MinRole, TenantId } from '../../common/auth/auth.decorators';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { Page, PaginationQueryDto } from '../../common/pagination/pagination';
import { ApiKeysService } from './api-keys.service';
import {
  ApiKeyPageDto,
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
  @ApiErrors(400, 401, 403, 409)
  create(@Body() dto: CreateTenantDto): Promise<CreateTenantResponseDto> {
    return this.tenants.create(dto.name, dto.admin);
  }
}

@ApiTags('api-keys')
@ApiBearerAuth('api-key')
@ApiCookieAuth('session')
@ApiErrors(401, 403)
@MinRole('admin')
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiErrors(400)
  create(@TenantId() tenantId: string, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponseDto> {
    return this.apiKeys.create(tenantId, dto.name);
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyPageDto })
  @ApiErrors(400)
  list(@TenantId() tenantId: string, @Query() q: PaginationQueryDto): Promise<Page<ApiKeyResponseDto>> {
    return this.apiKeys.list(tenantId, q);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked; the key answers 401 at once' })
  @ApiErrors(400, 404)
  revoke(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.apiKeys.revoke(tenantId, id);
  }
}
