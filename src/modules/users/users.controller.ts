import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
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
import { CreateUserDto, UpdateUserDto, UserListResponseDto, UserResponseDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth('api-key')
@ApiCookieAuth('session')
@ApiErrors(401, 403)
@MinRole('admin')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ type: UserListResponseDto })
  async list(@TenantId() tenantId: string): Promise<UserListResponseDto> {
    return { items: await this.users.list(tenantId) };
  }

  @Post()
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiErrors(400, 409)
  create(@TenantId() tenantId: string, @Body() dto: CreateUserDto): Promise<UserResponseDto> {
    return this.users.create(tenantId, dto);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(400, 404, 409)
  update(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateUserDto,
  ): Promise<UserResponseDto> {
    return this.users.changeRole(tenantId, id, dto.role);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: "Removed; the user's sessions end with it" })
  @ApiErrors(400, 404, 409)
  remove(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.users.remove(tenantId, id);
  }
}
