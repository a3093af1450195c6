import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { QUEUE_NAMES } from '../../queues/queues';
import { OutboxRelayService } from './outbox-relay.service';
import { OutboxService } from './outbox.service';

@Global()
@Module({
  imports: [
    BullModule.registerQueue(
      { name: QUEUE_NAMES.google },
      { name: QUEUE_NAMES.push },
      { name: QUEUE_NAMES.bulk },
      { name: QUEUE_NAMES.webhooks },
    ),
  ],
  providers: [OutboxService, OutboxRelayService],
  exports: [OutboxService, OutboxRelayService, BullModule],
})
export class OutboxModule {}
