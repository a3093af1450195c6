import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { UserCredentialsDto, UserResponseDto } from '../../users/dto/user.dto';

export class CreateTenantDto {
  @ApiProperty({ example: 'Acme', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({
    type: UserCredentialsDto,
    description: "The tenant's first console user, with the admin role (password: 10 to 200 characters).",
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => UserCredentialsDto)
  admin?: UserCredentialsDto;
}

export class CreateTenantResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Shown once; only its hash is stored.' }) apiKey!: string;
  @ApiPropertyOptional({ type: UserResponseDto, description: 'The first admin, when `admin` was given.' })
  admin?: UserResponseDto;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'email personalisation', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;
}

export class ApiKeyResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Prefix that identifies the key; not a secret.' }) prefix!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) revokedAt!: string | null;
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'Shown once; only its hash is stored.' }) apiKey!: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyResponseDto] }) items!: ApiKeyResponseDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
