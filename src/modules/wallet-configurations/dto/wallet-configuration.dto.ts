import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { PASS_TYPE_IDENTIFIER_PATTERN, TEAM_IDENTIFIER_PATTERN } from '../apple-credentials.validator';
import { ISSUER_ID_PATTERN } from '../google-credentials.validator';

const MAX_PEM_LENGTH = 32 * 1024;
const WRITE_ONLY = 'Write-only: stored encrypted, never returned and never logged.';

export class AppleCredentialsDto {
  @ApiProperty({
    example: 'pass.com.acme.voucher',
    pattern: PASS_TYPE_IDENTIFIER_PATTERN.source,
    maxLength: 255,
  })
  @IsString()
  @MaxLength(255)
  @Matches(PASS_TYPE_IDENTIFIER_PATTERN, { message: 'must look like "pass.com.example.voucher"' })
  passTypeIdentifier!: string;

  @ApiProperty({ example: 'ABCDE12345', pattern: TEAM_IDENTIFIER_PATTERN.source })
  @IsString()
  @Matches(TEAM_IDENTIFIER_PATTERN, { message: 'must be 10 upper-case letters or digits, e.g. "ABCDE12345"' })
  teamIdentifier!: string;

  @ApiProperty({
    description:
      'Pass Type ID certificate, PEM. Its subject UID and OU must equal passTypeIdentifier and teamIdentifier.',
    example: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n',
  })
  @ValidateIf((o: AppleCredentialsDto) => o.p12Base64 === undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_PEM_LENGTH)
  certificatePem!: string;

  @ApiProperty({
    description: `The certificate's private key, PEM (PKCS#8, PKCS#1, or encrypted PKCS#8 with privateKeyPassphrase). ${WRITE_ONLY}`,
    writeOnly: true,
  })
  @ValidateIf((o: AppleCredentialsDto) => o.p12Base64 === undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_PEM_LENGTH)
  privateKeyPem!: string;

  @ApiPropertyOptional({
    description:
      'Instead of certificatePem + privateKeyPem: the `.p12` file exported from Keychain Access, base64. ' +
      `The certificate and key are taken from it and checked like PEM ones. ${WRITE_ONLY}`,
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200_000)
  p12Base64?: string;

  @ApiPropertyOptional({
    description: `Password of the .p12 file (may be empty). ${WRITE_ONLY}`,
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  p12Password?: string;

  @ApiPropertyOptional({
    description: `Passphrase of an encrypted private key. ${WRITE_ONLY}`,
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  privateKeyPassphrase?: string;

  @ApiProperty({
    description:
      'Apple WWDR intermediate certificate that issued the pass certificate, PEM (G4 for current certificates).',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_PEM_LENGTH)
  wwdrCertificatePem!: string;
}

export class GoogleCredentialsDto {
  @ApiProperty({ example: '3388000000012345678', pattern: ISSUER_ID_PATTERN.source })
  @IsString()
  @Matches(ISSUER_ID_PATTERN, { message: 'must be 1 to 25 digits' })
  issuerId!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    writeOnly: true,
    description:
      'The service-account key file as Google Cloud issues it: `type` "service_account", `client_email`, RSA `private_key`, ' +
      `optionally private_key_id, token_uri, project_id and the other fields of the file. ${WRITE_ONLY} ` +
      'Only client_email is shown back (google.clientEmail).',
  })
  @IsDefined({ message: 'is required' })
  serviceAccountKey!: unknown;
}

export class CreateWalletConfigurationDto {
  @ApiProperty({ example: 'Acme production', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({
    type: () => AppleCredentialsDto,
    nullable: true,
    description: 'Leave out (or null) for no Apple Wallet.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AppleCredentialsDto)
  apple?: AppleCredentialsDto | null;

  @ApiPropertyOptional({
    type: () => GoogleCredentialsDto,
    nullable: true,
    description: 'Leave out (or null) for no Google Wallet.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => GoogleCredentialsDto)
  google?: GoogleCredentialsDto | null;
}

export class UpdateWalletConfigurationDto {
  @ApiPropertyOptional({ example: 'Acme production', maxLength: 200 })
  @ValidateIf((o: UpdateWalletConfigurationDto) => o.name !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    type: () => AppleCredentialsDto,
    nullable: true,
    description:
      'Replaces the whole Apple block (all fields, checked again); `null` removes it; leave out to keep it.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AppleCredentialsDto)
  apple?: AppleCredentialsDto | null;

  @ApiPropertyOptional({
    type: () => GoogleCredentialsDto,
    nullable: true,
    description: 'Replaces the whole Google block; `null` removes it; leave out to keep it.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => GoogleCredentialsDto)
  google?: GoogleCredentialsDto | null;
}

export class ApnsStatusDto {
  @ApiProperty({
    enum: ['OK', 'UNHEALTHY', 'UNREACHABLE'],
    description:
      'OK: APNs accepted the latest pushes. UNHEALTHY: APNs refused the certificate; pushes stopped. ' +
      'UNREACHABLE: APNs could not be reached or refused service (connection errors, timeouts, 429/5xx) ' +
      'with nothing delivered; pushes wait for retries and count as pending.',
  })
  status!: 'OK' | 'UNHEALTHY' | 'UNREACHABLE';
  @ApiProperty({ nullable: true, type: String, description: 'What went wrong, while not OK.' })
  message!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When the status last changed (null while it never has).',
  })
  since!: string | null;
}

export class AppleConfigurationResponseDto {
  @ApiProperty() passTypeIdentifier!: string;
  @ApiProperty() teamIdentifier!: string;
  @ApiProperty() certificatePem!: string;
  @ApiProperty() wwdrCertificatePem!: string;
  @ApiProperty({ format: 'date-time', description: "End of the pass certificate's validity." })
  certificateExpiresAt!: string;
  @ApiProperty({
    description: 'Whole days until the pass certificate expires (negative once expired): renew it before 0.',
  })
  certificateDaysLeft!: number;
  @ApiProperty({
    type: [String],
    description:
      'Advice about the uploaded chain that did not stop the upload, e.g. a WWDR certificate that is not one of ' +
      "Apple's WWDR intermediates (G4 or later): passes signed with such a chain will not install on devices.",
  })
  warnings!: string[];
  @ApiProperty({
    enum: ['OK', 'UNHEALTHY', 'UNREACHABLE'],
    description: 'Outcome of the latest APNs pushes with this certificate (the same as `apns.status`).',
  })
  apnsStatus!: 'OK' | 'UNHEALTHY' | 'UNREACHABLE';
  @ApiProperty({ nullable: true, type: String, description: 'The same as `apns.message`.' })
  apnsError!: string | null;
  @ApiProperty({ type: () => ApnsStatusDto })
  apns!: ApnsStatusDto;
}

export class GoogleConfigurationResponseDto {
  @ApiProperty() issuerId!: string;
  @ApiProperty({ description: "The service account's email; the key itself is never returned." })
  clientEmail!: string;
}

export class WalletConfigurationResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: () => AppleConfigurationResponseDto, nullable: true })
  apple!: AppleConfigurationResponseDto | null;
  @ApiProperty({ type: () => GoogleConfigurationResponseDto, nullable: true })
  google!: GoogleConfigurationResponseDto | null;
  @ApiProperty({ description: 'Starts at 1 and grows with every change.' }) version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class WalletConfigurationPageDto {
  @ApiProperty({ type: () => [WalletConfigurationResponseDto] }) items!: WalletConfigurationResponseDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
