import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { ApnsClientFactory } from '../../integrations/apns/apns-client.factory';
import { ApnsError, ApnsResponse } from '../../integrations/apns/apns-connection';
import { ApnsOutcome, classifyApnsResponse } from '../../integrations/apns/apns-result';
import { REDIS } from '../../integrations/redis/redis.module';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { MetricsService } from '../metrics/metrics.service';
import { AppleDevicesService } from '../apple-web-service/apple-devices.service';

/** Accepted tokens are written to Redis in slices of this size. */
const REMEMBER_SLICE = 25;

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

  constructor(
    private readonly apns: ApnsClientFactory,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly devices: AppleDevicesService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
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
    const cfg = await this.walletConfigurations.findById(input.walletConfigurationId);
    const creds = cfg ? this.walletConfigurations.decryptApple(cfg) : null;
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
    // Accepted tokens are remembered in small slices as they come, so a crash re-pushes few.
    let toRemember: string[] = [];
    let remembering: Promise<unknown> = Promise.resolve();
    const remember = (force: boolean) => {
      if (toRemember.length === 0 || (!force && toRemember.length < REMEMBER_SLICE)) return;
      const slice = toRemember;
      toRemember = [];
      remembering = remembering.then(() =>
        this.redis
          .multi()
          .sadd(doneKey, ...slice)
          .expire(doneKey, 2 * 24 * 3600)
          .exec()
          .catch(() => undefined),
      );
    };
    await Promise.all(
      tokens.map(async (token) => {
        let res: ApnsResponse | ApnsError;
        try {
          res = await connection.send(token, input.passTypeIdentifier);
        } catch (err) {
          res = err instanceof ApnsError ? err : new ApnsError('connection', (err as Error).message);
        }
        const outcome: ApnsOutcome = classifyApnsResponse(res);
        const reason = res instanceof Error ? res.kind : (res.reason ?? String(res.status));
        switch (outcome) {
          case 'delivered':
            deliveredAny = true;
            toRemember.push(token);
            remember(false);
            result.sent++;
            return;
          case 'unregistered':
            unregistered.push(token);
            result.unregistered++;
            fail(reason);
            return;
          case 'retry':
            result.retry.push(token);
            result.retryReason = res instanceof Error ? `${res.kind}: ${res.message}` : reason;
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
      }),
    );
    remember(true);
    await remembering;
    if (deliveredAny) {
      this.sentCounter.inc(result.sent - (input.tokens.length - tokens.length));
      // Change to acceptance of the batch's last push.
      if (Number.isFinite(changedAt)) this.latency.observe((Date.now() - changedAt) / 1000);
    }
    for (const [reason, n] of failedByReason) this.failedCounter.inc({ reason }, n);
    for (const token of unregistered) await this.devices.deleteRegistrationsForPushToken(token);
    if (result.certificateError) {
      await this.walletConfigurations.setApnsHealth(cfg.id, 'UNHEALTHY', result.certificateError);
      this.logger.error(
        { walletConfigurationId: cfg.id, error: result.certificateError },
        'APNs certificate refused; configuration marked unhealthy',
      );
    } else if (deliveredAny && cfg.apnsStatus === 'UNHEALTHY') {
      await this.walletConfigurations.setApnsHealth(cfg.id, 'OK');
    }
    return result;
  }
}
