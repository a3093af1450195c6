import { Injectable } from '@nestjs/common';
import { AppleDevicesService } from '../apple-web-service/apple-devices.service';
import { CampaignsService } from '../campaigns/campaigns.service';
import { CampaignActivityRepository } from './campaign-activity.repository';
import { CampaignImpactDto, DailyStatsResponseDto, DeviceLogsResponseDto } from './dto/campaign-activity.dto';

const DAY_MS = 86_400_000;

/** The campaign page's charts, device messages and the "safe publishing" numbers. */
@Injectable()
export class CampaignActivityService {
  constructor(
    private readonly repo: CampaignActivityRepository,
    private readonly campaigns: CampaignsService,
    private readonly devices: AppleDevicesService,
  ) {}

  async daily(
    tenantId: string,
    campaignId: string,
    days: number,
    now = new Date(),
  ): Promise<DailyStatsResponseDto> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const dates = Array.from({ length: days }, (_, i) =>
      new Date(today - (days - 1 - i) * DAY_MS).toISOString().slice(0, 10),
    );
    const counts = await this.repo.daily(tenantId, campaignId, dates[0]!);
    return {
      days: dates.map((date) => {
        const c = counts.get(date);
        return {
          date,
          passesIssued: { APPLE: c?.appleIssued ?? 0, GOOGLE: c?.googleIssued ?? 0 },
          devicesRegistered: c?.registered ?? 0,
          devicesRemoved: c?.removed ?? 0,
          pushesSent: c?.sent ?? 0,
          pushesFailed: c?.failed ?? 0,
        };
      }),
    };
  }

  async deviceLogs(tenantId: string, campaignId: string, limit: number): Promise<DeviceLogsResponseDto> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const rows = await this.repo.deviceLogs(tenantId, campaignId, limit);
    return {
      items: rows.map((r) => ({
        serialNumber: r.serial_number,
        message: r.message,
        createdAt: r.created_at.toISOString(),
      })),
    };
  }

  async impact(tenantId: string, campaignId: string): Promise<CampaignImpactDto> {
    await this.campaigns.getEntity(tenantId, campaignId);
    const [counts, appleDevices] = await Promise.all([
      this.repo.impact(tenantId, campaignId),
      this.devices.countDevicesByCampaign(tenantId, campaignId),
    ]);
    return { passes: counts.passes, appleDevices, googlePasses: counts.googlePasses };
  }
}
