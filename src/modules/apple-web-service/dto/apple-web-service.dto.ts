import { ApiProperty } from '@nestjs/swagger';

/**
 * Shapes of Apple's PassKit web service, for the OpenAPI document. The bodies are checked by
 * hand (`apple-protocol.ts`) rather than by the global ValidationPipe: the protocol is Apple's,
 * unknown extra fields must not fail a device, and registration is a hot path.
 */
export class PushTokenDto {
  @ApiProperty({ description: 'APNs device token, hexadecimal', example: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' })
  pushToken!: string;
}

export class SerialNumbersDto {
  @ApiProperty({ type: [String], description: 'Registered serials of the pass type changed after the tag' })
  serialNumbers!: string[];

  @ApiProperty({
    description: 'Change tag (a decimal string): send it back as passesUpdatedSince',
    example: '1042',
  })
  lastUpdated!: string;
}

export class LogEntriesDto {
  @ApiProperty({
    type: [String],
    description: 'Messages from Wallet: at most 100, each at most 2,000 characters',
    maxItems: 100,
  })
  logs!: string[];
}
