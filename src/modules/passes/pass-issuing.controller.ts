import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth } from '../../common/auth/auth.decorators';
import { PKPASS_MIME_TYPE } from '../../integrations/pkpass/pkpass-builder';
import { PassIssuingService } from './pass-issuing.service';

@ApiTags('passes')
@Controller('api/pass')
export class PassIssuingController {
  constructor(private readonly issuing: PassIssuingService) {}

  /** The "Add to Wallet" link. Browsers get a short HTML page on errors, other clients JSON. */
  @Get('create/:jwt')
  @Auth('public')
  @ApiOperation({
    summary:
      'Issue the pass a signed link names: a .pkpass for Apple, a redirect to Google Wallet for Google',
  })
  @ApiParam({ name: 'jwt', description: 'The signed link token from POST /pers/v1/urls' })
  @ApiResponse({ status: 200, description: 'Apple: the signed pass (application/vnd.apple.pkpass)' })
  @ApiResponse({ status: 302, description: 'Google: redirect to the Save to Google Wallet link' })
  @ApiResponse({ status: 400, description: 'Malformed link' })
  @ApiResponse({ status: 401, description: 'Tampered or expired link, or unknown signing key' })
  @ApiResponse({ status: 404, description: 'Campaign not found' })
  @ApiResponse({ status: 410, description: 'Campaign ended' })
  @ApiResponse({ status: 422, description: 'The campaign is not set up for this platform' })
  @ApiResponse({ status: 503, description: 'Google Wallet unreachable; try again' })
  async create(@Param('jwt') jwt: string, @Res() reply: FastifyReply): Promise<void> {
    const issued = await this.issuing.issue(jwt);
    void reply.header('Cache-Control', 'no-store').header('X-Pass-Serial', issued.serialNumber);
    if (issued.platform === 'GOOGLE') {
      await reply.redirect(issued.saveUrl, 302);
      return;
    }
    await reply
      .status(200)
      .header('Content-Type', PKPASS_MIME_TYPE)
      .header('Content-Disposition', 'attachment; filename="pass.pkpass"')
      .header('Last-Modified', issued.lastModified.toUTCString())
      .send(issued.pkpass);
  }
}
