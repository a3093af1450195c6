import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class BulkUpdateAcceptedDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['QUEUED', 'RUNNING', 'DONE', 'FAILED'] })
  status!: 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';
}

export class BulkUpdateDto {
  @ApiProperty() id!: string;
  @ApiProperty() campaignId!: string;
  @ApiProperty({
    enum: ['QUEUED', 'RUNNING', 'DONE', 'FAILED'],
    description:
      'QUEUED: received, waiting for a worker; RUNNING: being applied; DONE: every row applied or reported',
  })
  status!: 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';
  @ApiProperty({ description: 'Data rows in the upload (header and blank lines not counted)' })
  total!: number;
  @ApiProperty({ description: 'Rows applied so far' })
  applied!: number;
  @ApiProperty({ description: 'Rows that cannot be applied; see the error report' })
  failed!: number;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Why the update FAILED as a whole' })
  error!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) finishedAt!: string | null;
}
