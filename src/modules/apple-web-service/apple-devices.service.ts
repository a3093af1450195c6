import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors';
import { appleAuthFailure, assertAuthenticated, requestToken } from './apple-pass-auth';
import { isDeviceLibraryIdentifier, parseTag, pushTokenOf } from './apple-protocol';
import { AppleDevicesRepository, PassCredentials, PushTarget } from './apple-devices.repository';

export interface RegistrationRequest {
  deviceLibraryIdentifier: string;
  passTypeIdentifier: string;
  serialNumber: string;
  authorization: string | undefined;
}

export interface SerialNumbers {
  serialNumbers: string[];
  lastUpdated: string;
}

/**
 * Device registrations for pass updates (Apple's PassKit web service), and what the rest of the
 * service needs from them: push targets, device counts, and cleanup of tokens APNs rejects.
 *
 * Order of checks on the authenticated routes: the ApplePass token first (401, revealing nothing
 * about the pass), then the request's syntax (400 for a malformed device library identifier or
 * push token), then the change.
 */
@Injectable()
export class AppleDevicesService {
  constructor(private readonly repo: AppleDevicesRepository) {}

  /**
   * True when the registration is new (201), false when the device was already registered (200).
   * A well-formed request is authenticated and written in one statement; a malformed one is
   * authenticated first, so that a wrong token is still a 401 rather than a 400.
   */
  async register(req: RegistrationRequest, body: unknown): Promise<boolean> {
    const token = requestToken(req.authorization, req.passTypeIdentifier, req.serialNumber);
    const pushToken = pushTokenOf(body);
    if (!isDeviceLibraryIdentifier(req.deviceLibraryIdentifier) || pushToken === null) {
      await this.authenticate(req);
      assertDeviceLibraryIdentifier(req.deviceLibraryIdentifier);
      throw DomainError.validation(
        'pushToken',
        'must be a hexadecimal APNs device token (16-512 characters)',
      );
    }
    const result = await this.repo.register({
      deviceLibraryIdentifier: req.deviceLibraryIdentifier,
      pushToken,
      passTypeIdentifier: req.passTypeIdentifier,
      serialNumber: req.serialNumber,
      authenticationToken: token,
    });
    if (!result.authenticated) throw appleAuthFailure();
    return result.created;
  }

  /** Unregisters; succeeds also when the device was not registered (the outcome the device wants). */
  async unregister(req: RegistrationRequest): Promise<void> {
    const pass = await this.authenticate(req);
    assertDeviceLibraryIdentifier(req.deviceLibraryIdentifier);
    await this.repo.unregister(req.deviceLibraryIdentifier, pass.id);
  }

  /**
   * The device's registered serials of the pass type changed after `passesUpdatedSince`
   * (all of them without a usable tag), and the newest change tag among its registered passes.
   * Null when no serial matches (204).
   */
  async updatedSerials(
    deviceLibraryIdentifier: string,
    passTypeIdentifier: string,
    passesUpdatedSince: unknown,
  ): Promise<SerialNumbers | null> {
    assertDeviceLibraryIdentifier(deviceLibraryIdentifier);
    const passes = await this.repo.registeredPasses(deviceLibraryIdentifier, passTypeIdentifier);
    if (passes.length === 0) return null;
    const since = parseTag(passesUpdatedSince);
    let lastUpdated = 0n;
    const serialNumbers: string[] = [];
    for (const p of passes) {
      // Not the largest tag seen: a change committing later may carry a smaller one (its
      // transaction started earlier). Every change this read missed is above lastUpdated.
      if (p.lastUpdated > lastUpdated) lastUpdated = p.lastUpdated;
      if (since === null || p.changeSeq > since) serialNumbers.push(p.serialNumber);
    }
    if (serialNumbers.length === 0) return null;
    return { serialNumbers, lastUpdated: lastUpdated.toString() };
  }

  /** Devices registered for any pass of the campaign (a device with several passes counts once). */
  countDevicesByCampaign(tenantId: string, campaignId: string): Promise<number> {
    return this.repo.countDevicesByCampaign(tenantId, campaignId);
  }

  /** Devices registered for the pass (the count the passes list shows). */
  countDevicesForPass(passId: string): Promise<number> {
    return this.repo.countDevicesForPass(passId);
  }

  /** The distinct push tokens registered for a pass, with the pass type to push under. */
  pushTargetsForPass(passId: string): Promise<PushTarget[]> {
    return this.repo.pushTargetsForPass(passId);
  }

  /** Push targets of many passes at once: each token once per pass type. */
  pushTargetsForPasses(passIds: string[]): Promise<PushTarget[]> {
    return this.repo.pushTargetsForPasses(passIds);
  }

  /**
   * APNs reported these tokens gone for a pass type under a wallet configuration's certificate:
   * deletes the registrations of that pass type and configuration that still carry them (those of
   * other pass types keep theirs), and devices left without registrations. Returns the number of
   * registrations deleted.
   */
  deleteRegistrationsForPushTokens(target: {
    pushTokens: string[];
    passTypeIdentifier: string;
    walletConfigurationId: string;
  }): Promise<number> {
    if (target.pushTokens.length === 0) return Promise.resolve(0);
    return this.repo.deleteRegistrationsForPushTokens({
      ...target,
      pushTokens: target.pushTokens.map((t) => t.toLowerCase()),
    });
  }

  private async authenticate(req: RegistrationRequest): Promise<PassCredentials> {
    const token = requestToken(req.authorization, req.passTypeIdentifier, req.serialNumber);
    const pass = await this.repo.passCredentials(req.serialNumber);
    assertAuthenticated(pass, req.passTypeIdentifier, token);
    return pass;
  }
}

function assertDeviceLibraryIdentifier(value: string): void {
  if (!isDeviceLibraryIdentifier(value)) {
    throw DomainError.validation('deviceLibraryIdentifier', 'must be 1-128 characters of A-Z a-z 0-9 . _ -');
  }
}
