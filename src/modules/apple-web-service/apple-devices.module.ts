import { Module } from '@nestjs/common';
import { AppleDeviceLogsRepository } from './apple-device-logs.repository';
import { AppleDeviceLogsService } from './apple-device-logs.service';
import { AppleDevicesRepository } from './apple-devices.repository';
import { AppleDevicesService } from './apple-devices.service';

/**
 * Device registrations and device logs, without the HTTP routes: import this module for
 * `AppleDevicesService` (push targets, device counts, removal of tokens APNs rejects).
 */
@Module({
  providers: [AppleDevicesRepository, AppleDevicesService, AppleDeviceLogsRepository, AppleDeviceLogsService],
  exports: [AppleDevicesService, AppleDeviceLogsService],
})
export class AppleDevicesModule {}
