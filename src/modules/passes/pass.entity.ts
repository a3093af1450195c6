import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { PersonalisationData } from '../../domain/pass-design/campaign-template';

@Entity({ name: 'passes' })
export class Pass {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'campaign_id', type: 'uuid' })
  campaignId!: string;

  /** `v:<voucher code>`, or `c:<contact id>` when the link has no voucher code. */
  @Column({ type: 'text' })
  identity!: string;

  @Column({ name: 'serial_number', type: 'text' })
  serialNumber!: string;

  @Column({ name: 'authentication_token', type: 'text' })
  authenticationToken!: string;

  @Column({ name: 'pass_type_identifier', type: 'text', nullable: true })
  passTypeIdentifier!: string | null;

  @Column({ type: 'jsonb' })
  data!: PersonalisationData;

  @Column({ name: 'apple_issued_at', type: 'timestamptz', nullable: true })
  appleIssuedAt!: Date | null;

  @Column({ name: 'google_object_id', type: 'text', nullable: true })
  googleObjectId!: string | null;

  @Column({ name: 'google_object_synced_at', type: 'timestamptz', nullable: true })
  googleObjectSyncedAt!: Date | null;

  @Column({ name: 'google_sync_error', type: 'text', nullable: true })
  googleSyncError!: string | null;

  @Column({ type: 'boolean', default: false })
  voided!: boolean;

  @Column({ name: 'change_seq', type: 'bigint' })
  changeSeq!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
