import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { MinRole, TenantId } from '../../common/auth/auth.decorators';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { Page, PaginationQueryDto } from '../../common/pagination/pagination';
import {
  CreateWalletConfigurationDto,
  UpdateWalletConfigurationDto,
  WalletConfigurationPageDto,
  WalletConfigurationResponseDto,
} from './dto/wallet-configuration.dto';
import { WalletConfigurationsService } from './wallet-configurations.service';

const CHECKS =
  'Checked on upload, the first problem answering 400 with `error.fields[0].field` naming it: ' +
  'Apple — the certificate parses (INVALID_CERTIFICATE), the key parses with the passphrase (INVALID_PRIVATE_KEY on ' +
  '`apple.privateKeyPem`, or on `apple.privateKeyPassphrase` when it is missing or wrong), the key belongs to the certificate, ' +
  'the certificate is valid now, its subject UID and OU equal passTypeIdentifier and teamIdentifier, and the WWDR ' +
  'certificate issued it (use Apple WWDR G4 for current Pass Type ID certificates). Google — issuerId is digits, ' +
  'serviceAccountKey is a service-account key file with type "service_account", client_email and an RSA private_key ' +
  '(INVALID_SERVICE_ACCOUNT_KEY naming `google.serviceAccountKey.<field>`). ' +
  'Private keys, the passphrase and the service-account key are write-only: stored encrypted, never returned or logged.';

@ApiTags('wallet-configurations')
@ApiBearerAuth('api-key')
@ApiCookieAuth('session')
@Controller('api/v1/wallet-configurations')
export class WalletConfigurationsController {
  constructor(private readonly configurations: WalletConfigurationsService) {}

  @Post()
  @MinRole('admin')
  @ApiOperation({
    summary: 'Create a wallet configuration',
    description:
      'Either platform block may be left out; leaving out both is allowed and makes a draft that no campaign can ' +
      `issue passes with until a block is added with PATCH. ${CHECKS}`,
  })
  @ApiCreatedResponse({ type: WalletConfigurationResponseDto })
  @ApiBadRequestResponse({ description: 'A field is invalid; `error.fields` names it.' })
  create(
    @TenantId() tenantId: string,
    @Body() dto: CreateWalletConfigurationDto,
  ): Promise<WalletConfigurationResponseDto> {
    return this.configurations.create(tenantId, dto);
  }

  @Get()
  @ApiOperation({ summary: "List the tenant's wallet configurations, oldest first" })
  @ApiOkResponse({ type: WalletConfigurationPageDto })
  list(
    @TenantId() tenantId: string,
    @Query() q: PaginationQueryDto,
  ): Promise<Page<WalletConfigurationResponseDto>> {
    return this.configurations.list(tenantId, q);
  }

  @Get(':id')
  @ApiOkResponse({ type: WalletConfigurationResponseDto })
  @ApiNotFoundResponse({ description: 'WALLET_CONFIGURATION_NOT_FOUND (also for ids of other tenants)' })
  show(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
  ): Promise<WalletConfigurationResponseDto> {
    return this.configurations.show(tenantId, id);
  }

  @Patch(':id')
  @MinRole('admin')
  @ApiOperation({
    summary: 'Change a wallet configuration',
    description:
      'Fields left out are kept. A present `apple` or `google` block replaces the stored one wholesale (send every field ' +
      'again, secrets included) and is checked as on creation; `null` removes the block. Every change increments ' +
      '`version`. Removing a block, or changing the Apple pass type id or Google issuer id, while campaigns use the ' +
      'configuration answers 409 WALLET_CONFIGURATION_IN_USE, because issued passes carry those ids; renewing the ' +
      `certificate under the same pass type id is allowed. ${CHECKS}`,
  })
  @ApiOkResponse({ type: WalletConfigurationResponseDto })
  @ApiBadRequestResponse({ description: 'A field is invalid; `error.fields` names it.' })
  @ApiNotFoundResponse({ description: 'WALLET_CONFIGURATION_NOT_FOUND' })
  @ApiConflictResponse({ description: 'WALLET_CONFIGURATION_IN_USE' })
  update(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateWalletConfigurationDto,
  ): Promise<WalletConfigurationResponseDto> {
    return this.configurations.update(tenantId, id, dto);
  }

  @Delete(':id')
  @MinRole('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a wallet configuration that no campaign (active or ended) uses' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'WALLET_CONFIGURATION_NOT_FOUND' })
  @ApiConflictResponse({ description: 'WALLET_CONFIGURATION_IN_USE: a campaign uses it' })
  remove(@TenantId() tenantId: string, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.configurations.remove(tenantId, id);
  }
}
