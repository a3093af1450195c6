import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  BARCODE_FORMATS,
  BarcodeFormat,
  PASS_STYLES,
  PassStyle,
} from '../../../domain/pass-design/campaign-template';

const COLOR = /^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$/;

export class TemplateFieldDto {
  @ApiProperty({ example: 'offer', description: 'Unique across the whole pass' })
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, {
    message: 'key must start with a letter and use letters, digits, _ or - (max 64)',
  })
  key!: string;

  @ApiPropertyOptional({ example: 'Offer' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;

  @ApiProperty({ example: '{{voucher.title}}' })
  @IsString()
  @MaxLength(2000)
  value!: string;

  @ApiPropertyOptional({
    example: 'Your balance is now %@',
    description: 'Apple alert on change; must contain %@',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/%@/, { message: 'changeMessage must contain %@' })
  changeMessage?: string;
}

export class TemplateBarcodeDto {
  @ApiProperty({ enum: BARCODE_FORMATS })
  @IsIn(BARCODE_FORMATS as readonly string[], {
    message: `format must be one of ${BARCODE_FORMATS.join(', ')}`,
  })
  format!: BarcodeFormat;

  @ApiProperty({ example: '{{voucher.code}}' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  message!: string;

  @ApiPropertyOptional({ example: '{{voucher.code}}' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  altText?: string;
}

function fieldList(max: number, description: string) {
  return [
    ApiPropertyOptional({ type: [TemplateFieldDto], description }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(max),
    ValidateNested({ each: true }),
    Type(() => TemplateFieldDto),
  ];
}

function apply(decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((d) => d(target, key));
}

/** Bounds of `linkTtlSeconds`, shared by the create and update DTOs (the column is an integer). */
export const LINK_TTL_SECONDS_MIN = 60;
export const LINK_TTL_SECONDS_MAX = 10 * 365 * 24 * 3600;

function linkTtlSecondsRules(): PropertyDecorator[] {
  return [IsInt(), Min(LINK_TTL_SECONDS_MIN), Max(LINK_TTL_SECONDS_MAX)];
}

export class CampaignTemplateDto {
  @ApiProperty({ example: 'Acme' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  organizationName!: string;

  @ApiProperty({ example: 'Acme summer voucher' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  description!: string;

  @ApiPropertyOptional({ example: 'Acme' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  logoText?: string;

  @ApiPropertyOptional({ example: '#1E88E5' })
  @IsOptional()
  @Matches(COLOR, { message: 'backgroundColor must be a #rrggbb colour' })
  backgroundColor?: string;

  @ApiPropertyOptional({ example: '#FFFFFF' })
  @IsOptional()
  @Matches(COLOR, { message: 'foregroundColor must be a #rrggbb colour' })
  foregroundColor?: string;

  @ApiPropertyOptional({ example: '#E3F2FD' })
  @IsOptional()
  @Matches(COLOR, { message: 'labelColor must be a #rrggbb colour' })
  labelColor?: string;

  @apply(fieldList(3, 'At most 3'))
  headerFields?: TemplateFieldDto[];

  @apply(fieldList(3, 'At most 3 (Apple shows 1 on most styles)'))
  primaryFields?: TemplateFieldDto[];

  @apply(fieldList(4, 'At most 4'))
  secondaryFields?: TemplateFieldDto[];

  @apply(fieldList(5, 'At most 5'))
  auxiliaryFields?: TemplateFieldDto[];

  @apply(fieldList(50, 'At most 50'))
  backFields?: TemplateFieldDto[];

  @ApiPropertyOptional({ type: TemplateBarcodeDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => TemplateBarcodeDto)
  barcode?: TemplateBarcodeDto;
}

export class CampaignImagesDto {
  @ApiPropertyOptional({ description: 'base64 PNG, at most 1 MB' }) @IsOptional() @IsString() icon?: string;
  @ApiPropertyOptional({ description: 'base64 PNG, at most 1 MB' }) @IsOptional() @IsString() logo?: string;
  @ApiPropertyOptional({ description: 'base64 PNG, at most 1 MB' }) @IsOptional() @IsString() strip?: string;
  @ApiPropertyOptional({ description: 'base64 PNG, at most 1 MB' })
  @IsOptional()
  @IsString()
  thumbnail?: string;
  @ApiPropertyOptional({ description: 'base64 PNG, at most 1 MB' })
  @IsOptional()
  @IsString()
  background?: string;
  @ApiPropertyOptional({ description: 'base64 PNG, at most 1 MB' }) @IsOptional() @IsString() footer?: string;
}

export class CreateCampaignDto {
  @ApiProperty({ example: 'Summer voucher' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiProperty()
  @IsUUID('all', { message: 'walletConfigurationId must be a UUID' })
  walletConfigurationId!: string;

  @ApiProperty({ enum: PASS_STYLES })
  @IsIn(PASS_STYLES as readonly string[], { message: `passStyle must be one of ${PASS_STYLES.join(', ')}` })
  passStyle!: PassStyle;

  @ApiProperty({ type: CampaignTemplateDto })
  @IsObject()
  @ValidateNested()
  @Type(() => CampaignTemplateDto)
  template!: CampaignTemplateDto;

  @ApiPropertyOptional({ type: CampaignImagesDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CampaignImagesDto)
  images?: CampaignImagesDto;

  @ApiPropertyOptional({
    description: 'Links for this campaign expire this many seconds after they were made',
    minimum: LINK_TTL_SECONDS_MIN,
    maximum: LINK_TTL_SECONDS_MAX,
  })
  @IsOptional()
  @apply(linkTtlSecondsRules())
  linkTtlSeconds?: number;
}

export class UpdateCampaignDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    type: CampaignTemplateDto,
    description: 'Replaces the template; every issued pass is updated',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CampaignTemplateDto)
  template?: CampaignTemplateDto;

  @ApiPropertyOptional({
    description: 'Images to set (base64 PNG) or remove (null); images not named are kept',
    type: CampaignImagesDto,
  })
  @IsOptional()
  @IsObject()
  images?: Record<string, string | null>;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    minimum: LINK_TTL_SECONDS_MIN,
    maximum: LINK_TTL_SECONDS_MAX,
    description: 'Link lifetime in seconds; null removes it',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @apply(linkTtlSecondsRules())
  linkTtlSeconds?: number | null;
}

export class CampaignGoogleDto {
  @ApiProperty() classId!: string;
  @ApiProperty({ enum: ['PENDING', 'SYNCED', 'FAILED'] }) syncStatus!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) lastError!: string | null;
}

export class CampaignResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() walletConfigurationId!: string;
  @ApiProperty({ enum: PASS_STYLES }) passStyle!: PassStyle;
  @ApiProperty({ type: CampaignTemplateDto }) template!: CampaignTemplateDto;
  @ApiProperty({
    description: 'Public URLs of the campaign images',
    example: { icon: 'https://…/api/assets/…/icon.png' },
  })
  images!: Record<string, string>;
  @ApiProperty({ enum: ['active', 'ended'] }) status!: 'active' | 'ended';
  @ApiPropertyOptional({ nullable: true, type: Number }) linkTtlSeconds!: number | null;
  @ApiPropertyOptional({ nullable: true, type: CampaignGoogleDto }) google!: CampaignGoogleDto | null;
  @ApiProperty() contentVersion!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) endedAt!: string | null;
  @ApiPropertyOptional({
    description:
      'After a PATCH that changed the design: the update pushing it to devices (GET …/updates/:updateId)',
  })
  updateId?: string;
}
