import { Foundation1732260000000 } from './1732260000000-foundation';
import { Outbox1732260000200 } from './1732260000200-outbox';
import { Passes1732260000300 } from './1732260000300-passes';
import { AppleDevices1732260000400 } from './1732260000400-apple-devices';
import { PassUpdates1732260000500 } from './1732260000500-pass-updates';
import { PassesCampaignIndex1732260000600 } from './1732260000600-passes-campaign-index';
import { DeviceLogsCompact1732260000900 } from './1732260000900-device-logs-compact';
import { UsersSessions1732260001200 } from './1732260001200-users-sessions';
import { CommitOrderedChangeTags1732260001000 } from './1732260001000-commit-ordered-change-tags';
import { RegistrationPushTokens1732260000700 } from './1732260000700-registration-push-tokens';
import { BulkUpdates1732260001100 } from './1732260001100-bulk-updates';
import { Webhooks1732260001300 } from './1732260001300-webhooks';
import { CampaignActivity1732260001201 } from './1732260001201-campaign-activity';
import { GoogleUpdateProgress1732260001010 } from './1732260001010-google-update-progress';
import { PushFailureReporting1732260000701 } from './1732260000701-push-failure-reporting';

/** Every migration, in order. Add new ones at the end. */
export const migrations = [
  Foundation1732260000000,
  Outbox1732260000200,
  Passes1732260000300,
  AppleDevices1732260000400,
  PassUpdates1732260000500,
  PassesCampaignIndex1732260000600,
  UsersSessions1732260001200,
  CommitOrderedChangeTags1732260001000,
  RegistrationPushTokens1732260000700,
  BulkUpdates1732260001100,
  Webhooks1732260001300,
  CampaignActivity1732260001201,
  GoogleUpdateProgress1732260001010,
  PushFailureReporting1732260000701,
  DeviceLogsCompact1732260000900,
];
