import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsString, MaxLength, MinLength } from 'class-validator';
import { Role, ROLES } from '../../../common/auth/auth.decorators';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../password-hasher';

const PASSWORD_DOC = `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`;

/** Email and password of a new user (also the tenant's first admin). */
export class UserCredentialsDto {
  @ApiProperty({ example: 'ada@acme.example', maxLength: 254 })
  @IsString()
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({
    example: 'a long pass phrase',
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    description: PASSWORD_DOC,
  })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;
}

export class CreateUserDto extends UserCredentialsDto {
  @ApiProperty({ enum: ROLES, example: 'editor' })
  @IsIn(ROLES)
  role!: Role;
}

export class UpdateUserDto {
  @ApiProperty({ enum: ROLES, example: 'viewer' })
  @IsIn(ROLES)
  role!: Role;
}

export class UserResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ada@acme.example' }) email!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiPropertyOptional({ format: 'date-time' }) createdAt?: string;
}

export class UserListResponseDto {
  @ApiProperty({ type: [UserResponseDto] }) items!: UserResponseDto[];
}
