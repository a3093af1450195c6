import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, MaxLength } from 'class-validator';
import { WEBHOOK_EVENTS } from '../webhook-events';

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://hooks.acme.example/wallet',
    maxLength: 2048,
    description:
      'http or https; its host must resolve to a public address (unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true). Redirects are not followed.',
  })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true, example: ['pass.installed', 'pass.removed'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENTS.length)
  @IsIn(WEBHOOK_EVENTS, { each: true })
  events!: string[];
}

export class WebhookResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true }) events!: string[];
  @ApiProperty({
    enum: ['ACTIVE', 'DISABLED'],
    description:
      'DISABLED after every delivery failed for WEBHOOK_DISABLE_AFTER_HOURS; a successful test ping or redelivery re-activates it',
  })
  status!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) disabledReason!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) disabledAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) failingSince!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class CreatedWebhookResponseDto extends WebhookResponseDto {
  @ApiProperty({ description: 'HMAC-SHA256 key for Wallet-Signature; shown only in this response' })
  secret!: string;
}

export class WebhookListResponseDto {
  @ApiProperty({ type: [WebhookResponseDto] }) items!: WebhookResponseDto[];
}

export class WebhookDeliveryResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', description: 'The event id (the body\'s "id"); a redelivery keeps it' })
  eventId!: string;
  @ApiProperty({ example: 'pass.installed' }) type!: string;
  @ApiProperty({ enum: ['PENDING', 'RETRYING', 'DELIVERED', 'FAILED', 'CANCELLED'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'HTTP status of the last attempt' })
  responseStatus!: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) responseTimeMs!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lastError!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) lastAttemptAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) deliveredAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'uuid' }) redeliveryOf!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class WebhookDeliveryListResponseDto {
  @ApiProperty({ type: [WebhookDeliveryResponseDto] }) items!: WebhookDeliveryResponseDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
