import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { MinRole, TenantId } from '../../common/auth/auth.decorators';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { CampaignPreviewService } from './campaign-preview.service';
import {
  CampaignPreviewDto,
  CampaignPreviewResponseDto,
  SavedCampaignPreviewDto,
  TestLinkDto,
  TestLinkResponseDto,
} from './dto/campaign-preview.dto';

const PREVIEW_DOC =
  'Rendered by the code that builds real passes: the template renderer, the pass.json mapper and the Google ' +
  'class/object mappers. Serial number and authentication token are placeholders.';

@ApiTags('campaigns')
@ApiBearerAuth('api-key')
@ApiCookieAuth('session')
@ApiErrors(401, 403)
@Controller('api/v1/campaigns')
export class CampaignPreviewController {
  constructor(private readonly preview: CampaignPreviewService) {}

  @Post('preview')
  @HttpCode(200)
  @MinRole('viewer')
  @ApiOperation({
    summary: 'Preview a design that is not saved yet',
    description: `${PREVIEW_DOC} Validated like campaign creation (400 naming the field). Images are left out.`,
  })
  @ApiOkResponse({ type: CampaignPreviewResponseDto })
  @ApiErrors(400, 404)
  previewDraft(
    @TenantId() tenantId: string,
    @Body() dto: CampaignPreviewDto,
  ): Promise<CampaignPreviewResponseDto> {
    return this.preview.previewDraft(tenantId, dto);
  }

  @Post(':id/preview')
  @HttpCode(200)
  @MinRole('viewer')
  @ApiOperation({
    summary: 'Preview a saved campaign for sample data',
    description: `${PREVIEW_DOC} Images are referenced by their public URLs.`,
  })
  @ApiOkResponse({ type: CampaignPreviewResponseDto })
  @ApiErrors(400, 404)
  previewSaved(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Body() dto: SavedCampaignPreviewDto,
  ): Promise<CampaignPreviewResponseDto> {
    return this.preview.previewSaved(tenantId, id, dto.sample);
  }

  @Post(':id/test-links')
  @ApiOperation({
    summary: 'A signed link for sample data ("try it")',
    description:
      'A normal link, as `POST /pers/v1/urls` makes: opening it issues the pass (a real pass of the campaign, ' +
      'identified by voucher.code or contact.id like any other). Needs the editor role.',
  })
  @ApiCreatedResponse({ type: TestLinkResponseDto })
  @ApiErrors(400, 404, 410, 422)
  testLink(
    @TenantId() tenantId: string,
    @Param('id', UuidPipe) id: string,
    @Body() dto: TestLinkDto,
  ): Promise<TestLinkResponseDto> {
    return this.preview.testLink(tenantId, id, dto);
  }
}
