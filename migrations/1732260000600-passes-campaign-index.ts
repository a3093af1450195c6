import { MigrationInterface, QueryRunner } from 'typeorm';

/** Keyset pages of a campaign's passes by id (push fan-out). */
export class PassesCampaignIndex1732260000600 implements MigrationInterface {
  name = 'PassesCampaignIndex1732260000600';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX passes_campaign_id_idx ON passes (campaign_id, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX passes_campaign_id_idx`);
  }
}
