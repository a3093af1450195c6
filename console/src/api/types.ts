import type { Schemas } from './client';

/**
 * Shapes of answers the OpenAPI document does not describe (yet). Everything the document does
 * describe is taken from it, so a changed DTO breaks the console's type check.
 */
export type SessionInfo = Schemas['AuthSessionResponseDto'];
export type Role = SessionInfo['user']['role'];
export type User = Schemas['UserResponseDto'];

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type Campaign = Schemas['CampaignResponseDto'];
export type CampaignTemplate = Schemas['CampaignTemplateDto'];
export type TemplateField = Schemas['TemplateFieldDto'];
export type PassStyle = Schemas['CreateCampaignDto']['passStyle'];
export type BarcodeFormat = Schemas['TemplateBarcodeDto']['format'];
/** The document types these nested objects as bare `object`; their members are spelled out here. */
export type CampaignStats = Schemas['CampaignStatsDto'] & {
  passes: { apple: number; google: number; total: number; voided: number };
  pushes: { sent: number; failed: number; unregistered: number; pending: number };
};
export type CampaignUpdate = Schemas['CampaignUpdateDto'];
export type Pass = Schemas['PassResponseDto'];
export type WalletConfiguration = Schemas['WalletConfigurationResponseDto'] & {
  apple:
    | (Schemas['AppleConfigurationResponseDto'] & {
        expiresAt?: string;
        daysLeft?: number;
        warnings?: string[];
        demo?: boolean;
      })
    | null;
  warnings?: string[];
};

export interface SampleData {
  contact: Record<string, string>;
  voucher: Record<string, string>;
}

export type PreviewResult = Schemas['CampaignPreviewResponseDto'];

export type DailyStats = Schemas['DailyStatsResponseDto'];

export type Impact = Schemas['CampaignImpactDto'];

export type DeviceLog = Schemas['DeviceLogDto'];

export interface ApiKey {
  id: string;
  name?: string;
  prefix?: string;
  createdAt?: string;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
}
