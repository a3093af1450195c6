import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class DailyStatsQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 90,
    default: 30,
    description: 'UTC days up to and including today',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(90)
  days: number = 30;
}

export class DeviceLogsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 100;
}

export class PlatformCountsDto {
  @ApiProperty({ example: 12 }) APPLE!: number;
  @ApiProperty({ example: 5 }) GOOGLE!: number;
}

export class DailyStatsDayDto {
  @ApiProperty({ example: '2026-12-03', description: 'UTC day' }) date!: string;
  @ApiProperty({ type: PlatformCountsDto, description: 'Passes first added to each platform that day' })
  passesIssued!: PlatformCountsDto;
  @ApiProperty({ description: 'Apple device registrations made that day (including ones removed since)' })
  devicesRegistered!: number;
  @ApiProperty({
    description:
      'Apple registrations that ended that day (device removed the pass, or APNs reported the token gone)',
  })
  devicesRemoved!: number;
  @ApiProperty({ description: 'Pushes APNs accepted that day' }) pushesSent!: number;
  @ApiProperty({ description: 'Pushes that failed that day (including tokens APNs reported gone)' })
  pushesFailed!: number;
}

export class DailyStatsResponseDto {
  @ApiProperty({ type: [DailyStatsDayDto], description: 'Oldest first, one entry per day, zeros included' })
  days!: DailyStatsDayDto[];
}

export class DeviceLogDto {
  @ApiProperty() serialNumber!: string;
  @ApiProperty({ example: 'Failed to fetch latest version of pass' }) message!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class DeviceLogsResponseDto {
  @ApiProperty({ type: [DeviceLogDto], description: 'Newest first' }) items!: DeviceLogDto[];
}

export class CampaignImpactDto {
  @ApiProperty({ description: 'Passes issued from the campaign: all are updated by a design change' })
  passes!: number;
  @ApiProperty({ description: 'Apple devices that will receive a push' }) appleDevices!: number;
  @ApiProperty({ description: 'Google pass objects that will be patched' }) googlePasses!: number;
}
