import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { ApnsClientFactory } from '../../integrations/apns/apns-client.factory';
import { ApnsOutcome, classifyApnsResponse } from '../../integrations/apns/apns-result';
import { REDIS } from '../../integrations/redis/redis.module';
import { WalletConfiguration } from '../wallet-configurations/wallet-configuration.entity';
import type { AppleCredentials } from '../wallet-configurations/wallet-configuration.types';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { MetricsService } from '../metrics/metrics.service';
import { AppleDevicesService } from '../apple-web-service/apple-devices.service';

/** How long a worker reuses a wallet configuration it read (see ApplePusherService.configuration). */
const CONFIGURATION_TTL_MS = 2_000;

interface CachedConfiguration {
  cfg: WalletConfiguration | null;
  creds: AppleCredentials | null;
  until: number;
}

/** Accepted tokens are written to Redis at most this long after APNs accepted them. */
const REMEMBER_INTERVAL_MS = 5;
/** How long a job's accepted tokens are remembered (longer than any retry schedule). */
const REMEMBER_TTL_S = 2 * 24 * 3600;

/**
 * Tokens APNs accepted, per job, on their way to Redis: every batch running in this process adds
 * to one buffer, written as one pipeline every REMEMBER_INTERVAL_MS. A crash re-pushes at most
 * what was accepted in those last milliseconds (plus what was in flight), and the Redis cost is
 * one round trip per interval instead of one per slice of each batch.
 */
class AcceptedTokenLog {
  private pending = new Map<string, string[]>();
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly redis: Redis) {}

  add(key: string, token: string): void {
    const list = this.pending.get(key);
    if (list) list.push(token);
    else this.pending.set(key, [token]);
    this.timer ??= setTimeout(() => this.write(), REMEMBER_INTERVAL_MS);
  }

  /** Resolves once every token added so far is written (or its write failed: best effort). */
  flushed(): Promise<void> {
    if (this.pending.size === 0) return this.writing;
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.write();
    });
  }

  private write(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = new Map();
    this.waiters = [];
    this.writing = this.writing.then(async () => {
      const pipeline = this.redis.pipeline();
      for (const [key, tokens] of batch) pipeline.sadd(key, ...tokens).expire(key, REMEMBER_TTL_S);
      await pipeline.exec().catch(() => undefined);
      for (const resolve of waiters) resolve();
    });
  }
}

export interface PushRoundResult {
  sent: number;
  unregistered: number;
  /** Permanently failed (certificate, configuration, request bug). */
  failed: number;
  /** Tokens to try again later (429, 5xx, timeouts, connection errors). */
  retry: string[];
  /** Why the last retried push failed (for the logs). */
  retryReason?: string;
  certificateError?: string;
}

/**
 * Sends "pass changed" pushes for one pass type through the wallet configuration's APNs
 * connection and acts on the answers. Tokens already accepted by APNs for a job are remembered
 * in Redis, so a job re-run after a crash does not push them twice.
 */
@Injectable()
export class ApplePusherService implements OnModuleInit {
  private readonly logger = new Logger(ApplePusherService.name);
  private caPem?: string;
  private readonly sentCounter;
  private readonly failedCounter;
  private readonly latency;
  private readonly accepted: AcceptedTokenLog;
  private readonly configurations = new Map<string, CachedConfiguration>();

  constructor(
    private readonly apns: ApnsClientFactory,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly devices: AppleDevicesService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.accepted = new AcceptedTokenLog(redis);
    this.sentCounter = metrics.counter('apns_pushes_sent_total', 'Pushes APNs accepted');
    this.failedCounter = metrics.counter(
      'apns_pushes_failed_total',
      'Pushes APNs did not accept, by reason',
      ['reason'],
    );
    this.latency = metrics.histogram(
      'push_change_to_accept_seconds',
      'From the change to APNs accepting the push',
      [],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    );
  }

  onModuleInit(): void {
    if (this.config.apnsCaFile) this.caPem = readFileSync(this.config.apnsCaFile, 'utf8');
  }

  async push(input: {
    walletConfigurationId: string;
    passTypeIdentifier: string;
    tokens: string[];
    dedupeKey: string;
    changedAt: string;
  }): Promise<PushRoundResult> {
    const result: PushRoundResult = { sent: 0, unregistered: 0, failed: 0, retry: [] };
    const { cfg, creds } = await this.configuration(input.walletConfigurationId);
    if (!cfg || !creds) {
      result.failed = input.tokens.length;
      this.failedCounter.inc({ reason: 'NoAppleCredentials' }, input.tokens.length);
      return result;
    }
    const doneKey = `${this.config.queuePrefix}:pushed:${input.dedupeKey}`;
    const already = new Set(await this.redis.smembers(doneKey).catch(() => [] as string[]));
    const tokens = input.tokens.filter((t) => !already.has(t));
    result.sent += input.tokens.length - tokens.length;

    const connection = this.apns.get(
      {
        id: cfg.id,
        certificatePem: creds.certificatePem,
        privateKeyPem: creds.privateKeyPem,
        passphrase: creds.privateKeyPassphrase,
      },
      { url: this.config.apnsUrl, caPem: this.caPem },
    );
    const changedAt = Date.parse(input.changedAt);
    // Metrics are counted per batch, not per push: at 10,000 pushes/s every microsecond shows.
    const failedByReason = new Map<string, number>();
    const fail = (reason: string) => failedByReason.set(reason, (failedByReason.get(reason) ?? 0) + 1);
    const unregistered: string[] = [];
    let deliveredAny = false;
    await connection.sendAll(tokens, input.passTypeIdentifier, (token, res) => {
      const outcome: ApnsOutcome = classifyApnsResponse(res);
      const reason = res instanceof Error ? res.kind : (res.reason ?? String(res.status));
      switch (outcome) {
        case 'delivered':
          deliveredAny = true;
          this.accepted.add(doneKey, token);
          result.sent++;
          return;
        case 'unregistered':
          unregistered.push(token);
          result.unregistered++;
          fail(reason);
          return;
        case 'retry':
          result.retry.push(token);
          result.retryReason =
            res instanceof Error ? `${res.kind}: ${res.message}` : `${res.status} ${res.reason ?? ''}`.trim();
          fail(reason);
          return;
        case 'certificate':
          result.failed++;
          result.certificateError ??= `APNs refused the certificate: ${reason}`;
          fail(reason);
          return;
        case 'configuration':
        case 'bug':
          result.failed++;
          fail(reason);
          this.logger.warn(
            { passTypeIdentifier: input.passTypeIdentifier, reason, outcome },
            'APNs rejected a push',
          );
          return;
      }
    });
    await this.accepted.flushed();
    if (deliveredAny) {
      this.sentCounter.inc(result.sent - (input.tokens.length - tokens.length));
      // Change to acceptance of the batch's last push.
      if (Number.isFinite(changedAt)) this.latency.observe((Date.now() - changedAt) / 1000);
    }
    for (const [reason, n] of failedByReason) this.failedCounter.inc({ reason }, n);
    await this.devices.deleteRegistrationsForPushTokens({
      pushTokens: unregistered,
      passTypeIdentifier: input.passTypeIdentifier,
      walletConfigurationId: cfg.id,
    });
    if (result.certificateError) {
      this.configurations.delete(cfg.id);
      await this.walletConfigurations.setApnsHealth(cfg.id, 'UNHEALTHY', result.certificateError);
      this.logger.error(
        { walletConfigurationId: cfg.id, error: result.certificateError },
        'APNs certificate refused; configuration marked unhealthy',
      );
    } else if (deliveredAny && cfg.apnsStatus !== 'OK') {
      this.configurations.delete(cfg.id);
      await this.walletConfigurations.setApnsHealth(cfg.id, 'OK');
    } else if (!deliveredAny && result.retry.length > 0 && cfg.apnsStatus !== 'UNHEALTHY') {
      // Nothing got through and everything is to be retried: APNs is unreachable or refusing
      // service. Shown on the configuration until a push is delivered again.
      this.configurations.delete(cfg.id);
      await this.walletConfigurations.setApnsHealth(
        cfg.id,
        'UNREACHABLE',
        `APNs unreachable or refusing service: ${result.retryReason ?? 'no answer'}`,
      );
    }
    return result;
  }

  /**
   * The wallet configuration and its decrypted Apple credentials, read once per
   * CONFIGURATION_TTL_MS per worker rather than per batch (a 100,000-device fan-out runs 200
   * batches). A changed certificate reaches pushes within that time; a health change this worker
   * makes drops its entry at once.
   */
  private async configuration(id: string): Promise<CachedConfiguration> {
    const now = Date.now();
    const hit = this.configurations.get(id);
    if (hit && hit.until > now) return hit;
    const cfg = await this.walletConfigurations.findById(id);
    const entry: CachedConfiguration = {
      cfg,
      creds: cfg ? this.walletConfigurations.decryptApple(cfg) : null,
      until: now + CONFIGURATION_TTL_MS,
    };
    this.configurations.set(id, entry);
    return entry;
  }
}
