import {
  Body,
  Controller,
  Delete,
  Get,
  Head,
  Headers,
  HttpCode,
  Ip,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBody,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth } from '../../common/auth/auth.decorators';
import { PKPASS_MIME_TYPE } from '../../integrations/pkpass/pkpass-builder';
import { AppleDeviceLogsService } from './apple-device-logs.service';
import { AppleDevicesService, RegistrationRequest } from './apple-devices.service';
import { ApplePassDeliveryService, LatestPassRequest } from './apple-pass-delivery.service';
import { AppleRateLimitGuard, DeviceLogBudget } from './apple-rate-limit.guard';
import { LogEntriesDto, PushTokenDto, SerialNumbersDto } from './dto/apple-web-service.dto';

const REGISTRATION = 'devices/:deviceLibraryIdentifier/registrations/:passTypeIdentifier/:serialNumber';
const PASS = 'passes/:passTypeIdentifier/:serialNumber';
const APPLE_PASS_HEADER = {
  name: 'Authorization',
  description: '`ApplePass <authenticationToken>` of the pass',
  required: true,
};

/**
 * Apple's PassKit web service (protocol v1) at `<PUBLIC_BASE_URL>/v1`. Every route authenticates
 * itself: the pass's ApplePass token, or (serial list) the device library identifier. Statuses are
 * the protocol's; a malformed device library identifier or push token is a 400, checked after the
 * token so an unauthenticated caller learns nothing.
 */
@ApiTags('apple-web-service')
@ApiResponse({ status: 429, description: 'Too many requests from this device or IP; see Retry-After' })
@Controller('v1')
@UseGuards(AppleRateLimitGuard)
export class AppleWebServiceController {
  constructor(
    private readonly devices: AppleDevicesService,
    private readonly delivery: ApplePassDeliveryService,
    private readonly deviceLogs: AppleDeviceLogsService,
    private readonly logBudget: DeviceLogBudget,
  ) {}

  @Post(REGISTRATION)
  @Auth('public')
  @ApiOperation({
    summary: 'Register a device to receive push notifications for a pass',
    description:
      'The ApplePass token is checked first (401 for no or another scheme, a wrong token, an unknown serial ' +
      "or a pass type that is not the pass's), then the request: a device library identifier must be 1-128 " +
      'characters of A-Z a-z 0-9 . _ -, the push token 16-512 hexadecimal characters (else 400). Registering ' +
      'again answers 200 and stores the new push token. Concurrent identical registrations create one.',
  })
  @ApiHeader(APPLE_PASS_HEADER)
  @ApiBody({ type: PushTokenDto })
  @ApiResponse({ status: 201, description: 'Registered' })
  @ApiResponse({ status: 200, description: 'Already registered (the push token is updated)' })
  @ApiResponse({ status: 400, description: 'Malformed device library identifier or push token' })
  @ApiResponse({ status: 401, description: 'Wrong token, unknown serial or pass type' })
  async register(
    @Param('deviceLibraryIdentifier') deviceLibraryIdentifier: string,
    @Param('passTypeIdentifier') passTypeIdentifier: string,
    @Param('serialNumber') serialNumber: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const req: RegistrationRequest = {
      deviceLibraryIdentifier,
      passTypeIdentifier,
      serialNumber,
      authorization,
    };
    const created = await this.devices.register(req, body);
    void reply.status(created ? 201 : 200);
  }

  @Delete(REGISTRATION)
  @Auth('public')
  @ApiOperation({
    summary: 'Unregister a device from a pass',
    description:
      'Answers 200 once the pass authenticates, also when the device was not registered (the state the ' +
      'device asks for). A device left without registrations is deleted.',
  })
  @ApiHeader(APPLE_PASS_HEADER)
  @ApiResponse({ status: 200, description: 'Unregistered' })
  @ApiResponse({ status: 401, description: 'Wrong token, unknown serial or pass type' })
  async unregister(
    @Param('deviceLibraryIdentifier') deviceLibraryIdentifier: string,
    @Param('passTypeIdentifier') passTypeIdentifier: string,
    @Param('serialNumber') serialNumber: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<void> {
    await this.devices.unregister({
      deviceLibraryIdentifier,
      passTypeIdentifier,
      serialNumber,
      authorization,
    });
  }

  @Get('devices/:deviceLibraryIdentifier/registrations/:passTypeIdentifier')
  @Auth('public')
  @ApiOperation({
    summary: "Serial numbers of the device's passes of this type changed since the tag",
    description:
      'No Authorization header: the device library identifier authorises. lastUpdated is a decimal string ' +
      '(the change sequence); a passesUpdatedSince that is not one of ours counts as absent, so every ' +
      'registered serial is listed. 204 when no serial matches; 400 for a malformed device library identifier.',
  })
  @ApiQuery({ name: 'passesUpdatedSince', required: false, description: 'lastUpdated of an earlier answer' })
  @ApiOkResponse({ type: SerialNumbersDto })
  @ApiNoContentResponse({ description: 'No registered pass of this type changed' })
  async serialNumbers(
    @Param('deviceLibraryIdentifier') deviceLibraryIdentifier: string,
    @Param('passTypeIdentifier') passTypeIdentifier: string,
    @Query('passesUpdatedSince') passesUpdatedSince: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SerialNumbersDto | undefined> {
    const result = await this.devices.updatedSerials(
      deviceLibraryIdentifier,
      passTypeIdentifier,
      passesUpdatedSince,
    );
    if (!result) {
      void reply.status(204);
      return undefined;
    }
    return result;
  }

  /** Declared before GET so Fastify does not add its own HEAD route (which would build the pass). */
  @Head(PASS)
  @Auth('public')
  @ApiOperation({ summary: 'Headers of the latest pass (as GET, without the body)' })
  @ApiHeader(APPLE_PASS_HEADER)
  async latestPassHead(
    @Param('passTypeIdentifier') passTypeIdentifier: string,
    @Param('serialNumber') serialNumber: string,
    @Headers('authorization') authorization: string | undefined,
    @Headers('if-modified-since') ifModifiedSince: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.sendLatest(
      { passTypeIdentifier, serialNumber, authorization, ifModifiedSince, withoutBody: true },
      reply,
    );
  }

  @Get(PASS)
  @Auth('public')
  @ApiOperation({ summary: 'The latest version of a pass' })
  @ApiHeader(APPLE_PASS_HEADER)
  @ApiHeader({
    name: 'If-Modified-Since',
    required: false,
    description: 'Last-Modified of an earlier answer',
  })
  @ApiResponse({
    status: 200,
    description: 'The signed pass (application/vnd.apple.pkpass), with Last-Modified',
  })
  @ApiResponse({ status: 304, description: 'Not modified since If-Modified-Since' })
  @ApiResponse({ status: 401, description: 'Wrong token, unknown serial or pass type' })
  async latestPass(
    @Param('passTypeIdentifier') passTypeIdentifier: string,
    @Param('serialNumber') serialNumber: string,
    @Headers('authorization') authorization: string | undefined,
    @Headers('if-modified-since') ifModifiedSince: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.sendLatest(
      { passTypeIdentifier, serialNumber, authorization, ifModifiedSince, withoutBody: false },
      reply,
    );
  }

  @Post('log')
  @Auth('public')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Messages from Wallet about problems with this web service',
    description:
      "Unauthenticated (Apple's design), so bounded: at most 100 messages of at most 2,000 characters per request " +
      '(413 naming the field beyond; a body over 256 KiB is 413 too), and a budget of messages per client address ' +
      'and minute (APPLE_LOG_RATE_LIMIT_PER_IP; 429 with Retry-After). One log line per request. Each distinct ' +
      'message is stored once with a count: for the tenant of the serial it names (newest 1,000 per tenant), or ' +
      'in a separate bucket of 200 for messages naming no known pass, which cannot push tenant messages out.',
  })
  @ApiBody({ type: LogEntriesDto })
  @ApiResponse({ status: 200, description: 'Logged' })
  @ApiResponse({ status: 400, description: 'The body is not { logs: string[] }' })
  @ApiResponse({ status: 413, description: 'Too many or too long messages' })
  async log(@Body() body: unknown, @Ip() ip: string): Promise<void> {
    const messages = this.deviceLogs.parse(body);
    this.logBudget.admit(ip, messages.length);
    await this.deviceLogs.record(messages, ip);
  }

  private async sendLatest(req: LatestPassRequest, reply: FastifyReply): Promise<void> {
    const result = await this.delivery.latest(req);
    void reply.header('Last-Modified', result.lastModified.toUTCString()).header('Cache-Control', 'no-cache');
    if (result.status === 304) {
      await reply.status(304).send();
      return;
    }
    void reply.status(200).header('Content-Type', PKPASS_MIME_TYPE);
    if (result.pkpass) {
      await reply.header('Content-Disposition', 'attachment; filename="pass.pkpass"').send(result.pkpass);
    } else {
      await reply.send();
    }
  }
}
