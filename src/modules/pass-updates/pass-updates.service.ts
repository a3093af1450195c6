import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError } from '../../common/errors';
import { page, Page, PaginationQueryDto } from '../../common/pagination/pagination';
import { PersonalisationData, PersonalisationValue } from '../../domain/pass-design/campaign-template';
import { Campaign } from '../campaigns/campaign.entity';
import { AppleDevicesService } from '../apple-web-service/apple-devices.service';
import { CampaignsService } from '../campaigns/campaigns.service';
import { personalisationDataProblem, personalisationObjectProblem } from '../links/link-request.validator';
import { passIdentity } from '../passes/pass-issuing.service';
import { OutboxService } from '../outbox/outbox.service';
import { Pass } from '../passes/pass.entity';
import { toPass } from '../passes/passes.repository';
import {
  CampaignStatsDto,
  CampaignUpdateDto,
  PassDetailDto,
  PassListQueryDto,
  PassResponseDto,
  UpdatePassDto,
} from '../passes/dto/pass.dto';
import { CampaignUpdateRow, PassUpdatesRepository } from './pass-updates.repository';

/**
 * Changes to issued passes and campaigns that must reach devices. The change and the intent to
 * push (and to patch Google) are written in one transaction through the outbox, so an outage of
 * Redis or of the workers delays pushes but never loses them.
 */
@Injectable()
export class PassUpdatesService implements OnModuleInit {
  constructor(
    private readonly repo: PassUpdatesRepository,
    private readonly campaigns: CampaignsService,
    private readonly outbox: OutboxService,
    private readonly devices: AppleDevicesService,
  ) {}

  onModuleInit(): void {
    this.campaigns.registerContentChangeHook({
      onCampaignContentChanged: (m, c) => this.onCampaignContentChanged(m, c),
    });
  }

  async list(tenantId: string, campaignId: string, q: PassListQueryDto): Promise<Page<PassResponseDto>> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const { rows, total } = await this.repo.listPasses(tenantId, campaignId, q.limit, q.offset, q.q);
    return page(
      rows.map((r) => toDto(toPass(r), r.devices)),
      total,
      q,
    );
  }

  async detail(tenantId: string, campaignId: string, serial: string): Promise<PassDetailDto> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const r = await this.repo.passDetail(tenantId, campaignId, serial);
    if (!r) throw DomainError.notFound('PASS_NOT_FOUND', 'Pass');
    const own = r.pass_push_at
      ? {
          at: r.pass_push_at,
          scope: 'PASS' as const,
          sent: r.pass_push_sent ?? 0,
          failed: r.pass_push_failed ?? 0,
        }
      : null;
    const campaign = r.campaign_push_at
      ? {
          at: r.campaign_push_at,
          scope: 'CAMPAIGN' as const,
          sent: r.campaign_push_sent ?? 0,
          failed: r.campaign_push_failed ?? 0,
        }
      : null;
    const last = own && campaign ? (own.at >= campaign.at ? own : campaign) : (own ?? campaign);
    return {
      ...toDto(toPass(r), r.devices),
      lastPush: last ? { ...last, at: last.at.toISOString() } : null,
    };
  }

  async update(
    tenantId: string,
    campaignId: string,
    serial: string,
    dto: UpdatePassDto,
  ): Promise<PassResponseDto> {
    for (const [field, value] of [
      ['contact', dto.contact],
      ['voucher', dto.voucher],
    ] as const) {
      if (value === undefined) continue;
      const problem = personalisationObjectProblem(value, field);
      if (problem) throw DomainError.validation(field, problem.replace(`${field} `, ''));
    }
    if (dto.contact === undefined && dto.voucher === undefined) {
      throw DomainError.validation('contact', 'give contact and/or voucher attributes to change');
    }
    const campaign = await this.campaigns.getEntity(tenantId, campaignId);
    if (campaign.status === 'ended')
      throw new DomainError('CAMPAIGN_ENDED', 'Campaign has ended; its passes cannot change');
    const pass = await this.repo.transaction(async (m) => {
      const current = await this.mustLock(m, tenantId, campaignId, serial);
      const data: PersonalisationData = {
        contact: {
          ...current.data.contact,
          ...(dto.contact as Record<string, PersonalisationValue> | undefined),
        },
        voucher: {
          ...current.data.voucher,
          ...(dto.voucher as Record<string, PersonalisationValue> | undefined),
        },
      };
      assertStorablePassData(data, current.identity);
      if (JSON.stringify(data) === JSON.stringify(current.data)) return current;
      const changed = await this.repo.setData(m, current.id, data);
      await this.announce(m, changed);
      return changed;
    });
    return toDto(pass, await this.devices.countDevicesForPass(pass.id));
  }

  async void(tenantId: string, campaignId: string, serial: string): Promise<PassResponseDto> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const pass = await this.repo.transaction(async (m) => {
      const current = await this.mustLock(m, tenantId, campaignId, serial);
      if (current.voided) return current;
      const voided = await this.repo.void(m, current.id);
      await this.announce(m, voided);
      return voided;
    });
    return toDto(pass, await this.devices.countDevicesForPass(pass.id));
  }

  async stats(tenantId: string, campaignId: string): Promise<CampaignStatsDto> {
    const campaign = await this.campaigns.getEntity(tenantId, campaignId);
    const [passes, pushes, devices] = await Promise.all([
      this.repo.passCounts(tenantId, campaignId),
      this.repo.pushCounts(tenantId, campaignId),
      this.devices.countDevicesByCampaign(tenantId, campaignId),
    ]);
    return {
      passes: { apple: passes.apple, google: passes.google, total: passes.total, voided: passes.voided },
      appleDevicesRegistered: devices,
      pushes,
      googleObjects: { synced: passes.g_synced, failed: passes.g_failed },
      googleClass: campaign.googleClassId
        ? {
            classId: campaign.googleClassId,
            syncStatus: campaign.googleSyncStatus ?? 'PENDING',
            lastError: campaign.googleSyncError,
          }
        : null,
    };
  }

  async getUpdate(tenantId: string, campaignId: string, updateId: string): Promise<CampaignUpdateDto> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const row = await this.repo.findUpdate(tenantId, campaignId, updateId);
    if (!row) throw DomainError.notFound('UPDATE_NOT_FOUND', 'Campaign update');
    return updateDto(row);
  }

  async listUpdates(
    tenantId: string,
    campaignId: string,
    q: PaginationQueryDto,
  ): Promise<CampaignUpdateDto[]> {
    await this.campaigns.getEntity(tenantId, campaignId);
    return (await this.repo.listUpdates(tenantId, campaignId, q.limit, q.offset)).map(updateDto);
  }

  /** Inside the campaign's change transaction: record the update and the intent to fan out. */
  private async onCampaignContentChanged(m: EntityManager, campaign: Campaign): Promise<string> {
    const google = campaign.googleClassId !== null;
    const updateId = await this.repo.insertCampaignUpdate(
      m,
      campaign.tenantId,
      campaign.id,
      campaign.contentVersion,
      google,
    );
    await this.outbox.add(m, campaign.tenantId, 'push.campaign', {
      tenantId: campaign.tenantId,
      campaignId: campaign.id,
      updateId,
      changedAt: new Date().toISOString(),
    });
    if (google)
      await this.outbox.add(m, campaign.tenantId, 'google.campaign.objects', {
        tenantId: campaign.tenantId,
        campaignId: campaign.id,
        updateId,
        contentVersion: campaign.contentVersion,
      });
    return updateId;
  }

  private async announce(m: EntityManager, pass: Pass): Promise<void> {
    await this.outbox.add(m, pass.tenantId, 'push.pass', {
      tenantId: pass.tenantId,
      passId: pass.id,
      changeSeq: pass.changeSeq,
      changedAt: new Date().toISOString(),
    });
    if (pass.googleObjectId)
      await this.outbox.add(m, pass.tenantId, 'google.object.sync', {
        tenantId: pass.tenantId,
        passId: pass.id,
      });
  }

  private async mustLock(
    m: EntityManager,
    tenantId: string,
    campaignId: string,
    serial: string,
  ): Promise<Pass> {
    const pass = await this.repo.lockPass(m, tenantId, campaignId, serial);
    if (!pass) throw DomainError.notFound('PASS_NOT_FOUND', 'Pass');
    return pass;
  }
}

function toDto(p: Pass, devices: number | null): PassResponseDto {
  const platforms: ('APPLE' | 'GOOGLE')[] = [];
  if (p.appleIssuedAt) platforms.push('APPLE');
  if (p.googleObjectSyncedAt) platforms.push('GOOGLE');
  return {
    serialNumber: p.serialNumber,
    platforms,
    registeredDevices: devices ?? 0,
    voided: p.voided,
    data: p.data,
    googleObjectId: p.googleObjectId,
    googleSyncError: p.googleSyncError,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function updateDto(r: CampaignUpdateRow): CampaignUpdateDto {
  const google = r.google_status
    ? {
        status: r.google_status,
        total: r.google_total,
        patched: r.google_patched,
        failed: r.google_failed,
        pending:
          r.google_total === null ? null : Math.max(r.google_total - r.google_patched - r.google_failed, 0),
      }
    : null;
  const googleOpen = google !== null && (google.status === 'PENDING' || google.status === 'RUNNING');
  return {
    id: r.id,
    campaignId: r.campaign_id,
    // The Apple side decides the status, except that a finished push fan-out waits for Google.
    status: r.status === 'DONE' && googleOpen ? 'RUNNING' : r.status,
    google,
    total: r.total,
    sent: r.sent,
    failed: r.failed,
    done: r.sent + r.failed,
    pending: r.total === null ? null : Math.max(r.total - r.sent - r.failed, 0),
    createdAt: r.created_at.toISOString(),
    finishedAt: googleOpen || !r.finished_at ? null : latest(r.finished_at, r.google_finished_at),
  };
}

function latest(a: Date | null, b: Date | null): string | null {
  const d = a && b ? (a > b ? a : b) : (a ?? b);
  return d ? d.toISOString() : null;
}

/**
 * A pass's data after a PATCH stays within the limits of link data (one definition, in the link
 * validator), and keeps the identity it was issued under: the voucher code, or the contact id when
 * the pass has no voucher code, cannot be changed, removed or (for a contact-id pass) added.
 */
function assertStorablePassData(data: PersonalisationData, identity: string): void {
  const problem = personalisationDataProblem(data.contact, data.voucher);
  if (problem) throw DomainError.validation(problem.field, `${problem.message} (after merging this change)`);
  if (passIdentity(data) === identity) return;
  const byCode = identity.startsWith('v:');
  const field =
    byCode || passIdentity({ contact: {}, voucher: data.voucher }).startsWith('v:')
      ? 'voucher.code'
      : 'contact.id';
  throw DomainError.validation(
    field,
    byCode
      ? 'identifies the pass (its voucher code) and cannot be changed or removed'
      : field === 'voucher.code'
        ? 'cannot be added: this pass is identified by its contact.id'
        : 'identifies the pass (it has no voucher code) and cannot be changed or removed',
  );
}
