import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { CampaignTemplate, ImageName, PassStyle } from '../../domain/pass-design/campaign-template';

export type GoogleSyncStatus = 'PENDING' | 'SYNCED' | 'FAILED';

@Entity({ name: 'campaigns' })
export class Campaign {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'wallet_configuration_id', type: 'uuid' })
  walletConfigurationId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'pass_style', type: 'text' })
  passStyle!: PassStyle;

  @Column({ type: 'jsonb' })
  template!: CampaignTemplate;

  @Column({ type: 'text', default: 'active' })
  status!: 'active' | 'ended';

  @Column({ name: 'link_ttl_seconds', type: 'integer', nullable: true })
  linkTtlSeconds!: number | null;

  @Column({ name: 'google_class_id', type: 'text', nullable: true })
  googleClassId!: string | null;

  @Column({ name: 'google_sync_status', type: 'text', nullable: true })
  googleSyncStatus!: GoogleSyncStatus | null;

  @Column({ name: 'google_sync_error', type: 'text', nullable: true })
  googleSyncError!: string | null;

  @Column({ name: 'google_sync_attempts', type: 'integer', default: 0 })
  googleSyncAttempts!: number;

  @Column({ name: 'content_version', type: 'integer', default: 1 })
  contentVersion!: number;

  @Column({ name: 'content_updated_at', type: 'timestamptz' })
  contentUpdatedAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  /** Names of the images the campaign has; filled by the repository, not a column. */
  imageNames?: ImageName[];
}

@Entity({ name: 'campaign_images' })
export class CampaignImage {
  @PrimaryColumn({ name: 'campaign_id', type: 'uuid' })
  campaignId!: string;

  @PrimaryColumn({ type: 'text' })
  name!: ImageName;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'bytea' })
  png!: Buffer;

  @Column({ type: 'text' })
  sha1!: string;

  @Column({ type: 'integer' })
  width!: number;

  @Column({ type: 'integer' })
  height!: number;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
