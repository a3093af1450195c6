import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/pagination/pagination';

export class UpdatePassDto {
  @ApiPropertyOptional({
    description: 'Contact attributes to set (merged into the pass data)',
    example: { firstName: 'Ada' },
  })
  @IsOptional()
  @IsObject()
  contact?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Voucher attributes to set (merged into the pass data)',
    example: { value: '20%' },
  })
  @IsOptional()
  @IsObject()
  voucher?: Record<string, unknown>;
}

export class PassResponseDto {
  @ApiProperty() serialNumber!: string;
  @ApiProperty({ enum: ['APPLE', 'GOOGLE'], isArray: true, description: 'Platforms the pass was added to' })
  platforms!: ('APPLE' | 'GOOGLE')[];
  @ApiProperty() registeredDevices!: number;
  @ApiProperty() voided!: boolean;
  @ApiProperty({ example: { contact: { id: 'c-1' }, voucher: { code: 'SUMMER-001' } } })
  data!: { contact: Record<string, unknown>; voucher: Record<string, unknown> };
  @ApiPropertyOptional({ nullable: true, type: String }) googleObjectId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) googleSyncError!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class PassListQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({
    maxLength: 200,
    example: 'SUMMER-0',
    description: 'Keeps passes whose serial number, voucher code or contact id equals this or starts with it',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q?: string;
}

export class PassLastPushDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({
    enum: ['PASS', 'CAMPAIGN'],
    description:
      'PASS: a push for this pass alone (PATCH, void); CAMPAIGN: the campaign-wide update it was part of (counts are campaign-wide)',
  })
  scope!: 'PASS' | 'CAMPAIGN';
  @ApiProperty() sent!: number;
  @ApiProperty() failed!: number;
}

export class PassPageDto {
  @ApiProperty({ type: [PassResponseDto] }) items!: PassResponseDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

export class PassDetailDto extends PassResponseDto {
  @ApiPropertyOptional({ nullable: true, type: PassLastPushDto }) lastPush!: PassLastPushDto | null;
}

export class CampaignStatsDto {
  @ApiProperty({ example: { apple: 10, google: 4, total: 12 } })
  passes!: { apple: number; google: number; total: number; voided: number };
  @ApiProperty({ description: 'Apple devices registered for updates of this campaign’s passes' })
  appleDevicesRegistered!: number;
  @ApiProperty({
    example: { sent: 100, failed: 2, unregistered: 1, pending: 0 },
    description:
      'sent: accepted by APNs. failed: given up (APNs refused for good, or still unreachable after the ' +
      'last retry). unregistered: tokens APNs reported gone (their registrations were removed). pending: ' +
      'not settled yet: queued, being pushed, or waiting for a retry while APNs is unreachable or refusing.',
  })
  pushes!: { sent: number; failed: number; unregistered: number; pending: number };
  @ApiProperty({ example: { synced: 4, failed: 0 } })
  googleObjects!: { synced: number; failed: number };
  @ApiProperty({ example: { classId: '338….campaign_…', syncStatus: 'SYNCED' }, nullable: true })
  googleClass!: { classId: string; syncStatus: string; lastError: string | null } | null;
}

export class GoogleUpdateProgressDto {
  @ApiProperty({ enum: ['PENDING', 'RUNNING', 'DONE', 'COALESCED'] }) status!: string;
  @ApiProperty({ nullable: true, type: Number }) total!: number | null;
  @ApiProperty() patched!: number;
  @ApiProperty() failed!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'total - patched - failed' })
  pending!: number | null;
}

export class CampaignUpdateDto {
  @ApiProperty() id!: string;
  @ApiProperty() campaignId!: string;
  @ApiProperty({
    enum: ['PENDING', 'RUNNING', 'DONE', 'COALESCED'],
    description: 'DONE once the Apple pushes and the Google objects are both done',
  })
  status!: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Push tokens to notify; null until the fan-out has counted them',
  })
  total!: number | null;
  @ApiProperty() sent!: number;
  @ApiProperty({ description: 'Given up: refused for good, token gone, or unreachable after the last retry' })
  failed!: number;
  @ApiProperty({ description: 'sent + failed' }) done!: number;
  @ApiPropertyOptional({
    nullable: true,
    type: GoogleUpdateProgressDto,
    description:
      'Saved Google objects of the campaign to patch (null when the campaign has no Google class); total is null until the run has counted them',
  })
  google!: GoogleUpdateProgressDto | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'total − done: not settled yet, including pushes waiting for a retry; null until total is known',
  })
  pending!: number | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) finishedAt!: string | null;
}
