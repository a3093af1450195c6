import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsUUID, ValidateNested } from 'class-validator';
import { PASS_STYLES, PassStyle } from '../../../domain/pass-design/campaign-template';
import { CampaignTemplateDto } from '../../campaigns/dto/campaign.dto';

export class PreviewSampleDto {
  @ApiProperty({
    example: { id: 'c-1', firstName: 'Ada', lastName: 'Lovelace' },
    description: 'Fills `{{contact.*}}` tokens. Flat: string, number, boolean or null values.',
  })
  @IsObject()
  contact!: Record<string, unknown>;

  @ApiProperty({
    example: { code: 'SUMMER-001', title: '10% off', value: '10%' },
    description: 'Fills `{{voucher.*}}` tokens. Flat: string, number, boolean or null values.',
  })
  @IsObject()
  voucher!: Record<string, unknown>;
}

export class CampaignPreviewDto {
  @ApiProperty({ enum: PASS_STYLES, example: 'coupon' })
  @IsIn(PASS_STYLES)
  passStyle!: PassStyle;

  @ApiProperty({ type: CampaignTemplateDto })
  @IsObject()
  @ValidateNested()
  @Type(() => CampaignTemplateDto)
  template!: CampaignTemplateDto;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      "Use this configuration's pass type id, team id and Google issuer id; without it the preview uses placeholders.",
  })
  @IsOptional()
  @IsUUID('all')
  walletConfigurationId?: string;

  @ApiProperty({ type: PreviewSampleDto })
  @IsObject()
  @ValidateNested()
  @Type(() => PreviewSampleDto)
  sample!: PreviewSampleDto;
}

export class SavedCampaignPreviewDto {
  @ApiProperty({ type: PreviewSampleDto })
  @IsObject()
  @ValidateNested()
  @Type(() => PreviewSampleDto)
  sample!: PreviewSampleDto;
}

export class ApplePreviewDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'pass.json exactly as a pass issued with this sample would carry it (serial and token are placeholders).',
  })
  passJson!: Record<string, unknown>;
}

export class GooglePreviewDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The class resource written to Google Wallet',
  })
  classResource!: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The object resource of this sample pass',
  })
  objectResource!: Record<string, unknown>;
}

export class CampaignPreviewResponseDto {
  @ApiProperty({ type: ApplePreviewDto }) apple!: ApplePreviewDto;
  @ApiProperty({ type: GooglePreviewDto }) google!: GooglePreviewDto;
}

export class TestLinkDto extends PreviewSampleDto {
  @ApiProperty({ enum: ['APPLE', 'GOOGLE'], example: 'APPLE' })
  @IsIn(['APPLE', 'GOOGLE'])
  platform!: 'APPLE' | 'GOOGLE';
}

export class TestLinkResponseDto {
  @ApiProperty({
    example: 'https://wallet.example.com/api/pass/create/eyJ…',
    description:
      'A normal signed link: opening it issues the pass (the same pass for the same voucher code).',
  })
  url!: string;
}
