import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Auth } from '../../common/auth/auth.decorators';
import { DomainError } from '../../common/errors';
import { isUuid } from '../../common/http/uuid.pipe';
import { defaultIconFiles } from '../../integrations/pkpass/default-icon';
import { isImageName } from './campaign-images';
import { CampaignsRepository } from './campaigns.repository';

/** Public campaign images: Google Wallet fetches class and object images by URL. */
@ApiTags('assets')
@Controller('api/assets')
export class CampaignAssetsController {
  private readonly defaultIcon = defaultIconFiles()['icon@2x.png'];
  private readonly defaultIconEtag = `"${createHash('sha1').update(this.defaultIcon).digest('hex')}"`;

  constructor(private readonly repo: CampaignsRepository) {}

  @Get(':campaignId/:file')
  @Auth('public')
  @ApiOperation({
    summary: 'A campaign image (icon.png, logo.png, strip.png, …); icon.png falls back to a neutral default',
  })
  async image(
    @Param('campaignId') campaignId: string,
    @Param('file') file: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const m = /^([a-z]+)\.png$/.exec(file);
    if (!isUuid(campaignId) || !m || !isImageName(m[1]!))
      throw DomainError.notFound('IMAGE_NOT_FOUND', 'Image');
    const name = m[1];
    const img = await this.repo.image(campaignId.toLowerCase(), name);
    let body: Buffer;
    let etag: string;
    if (img) {
      body = img.png;
      etag = `"${img.sha1}"`;
    } else if (name === 'icon' && (await this.repo.findByIdInternal(campaignId.toLowerCase()))) {
      body = this.defaultIcon;
      etag = this.defaultIconEtag;
    } else {
      throw DomainError.notFound('IMAGE_NOT_FOUND', 'Image');
    }
    void reply
      .header('Cache-Control', 'public, max-age=300, stale-while-revalidate=86400')
      .header('ETag', etag);
    if (req.headers['if-none-match'] === etag) {
      await reply.status(304).send();
      return;
    }
    await reply.status(200).type('image/png').send(body);
  }
}
