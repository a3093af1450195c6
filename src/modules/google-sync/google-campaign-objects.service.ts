import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  GoogleWalletClient,
  GoogleWalletError,
  type GoogleWalletType,
} from '../../integrations/google-wallet/google-wallet.client';
import { GoogleWalletGateway } from '../../integrations/google-wallet/google-wallet.module';
import { JobPayloads } from '../../queues/queues';
import { GOOGLE_TYPE_BY_STYLE } from '../../domain/pass-design/campaign-template';
import { CampaignIssuingContext, loadIssuingContext } from '../campaigns/campaigns.repository';
import { PassContentService } from '../passes/pass-content.service';
import { Pass } from '../passes/pass.entity';
import { PassesRepository } from '../passes/passes.repository';
import { WalletConfigurationsService } from '../wallet-configurations/wallet-configurations.service';
import { GooglePacerService } from './google-pacer.service';
import { GoogleUpdateProgressRepository } from './google-update-progress.repository';

/** Passes read per page (one query), and their progress persisted per page. */
const PAGE = 100;
/** Object PATCHes in flight at once for one run (the pacer bounds the rate per issuer). */
const WINDOW = 8;
/** 429s for one object before the run hands the retry to the queue's backoff. */
const MAX_RATE_LIMITED = 5;

type Outcome = 'patched' | 'failed';

/**
 * Brings every saved Google object of a campaign in line with a new content version: what the
 * class carries was patched on the class (`google.class.sync`); field labels, static texts,
 * barcodes, colours and images of objects are patched object by object here.
 *
 * - Paced per issuer (GooglePacerService), several objects in flight.
 * - Resumable: after each page (and before handing an error to the queue's retry) the run stores
 *   a keyset cursor — every pass up to it is done — and the ids done beyond it, so a resumed run
 *   (retry after an outage, another worker after a crash) patches no object twice, except those
 *   whose answer was lost with the crash.
 * - Coalesced: a newer content version of the campaign has its own update, which patches every
 *   object with the newest content; this run then stops at the next page.
 */
@Injectable()
export class GoogleCampaignObjectsService {
  private readonly logger = new Logger(GoogleCampaignObjectsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly progress: GoogleUpdateProgressRepository,
    private readonly passes: PassesRepository,
    private readonly content: PassContentService,
    private readonly walletConfigurations: WalletConfigurationsService,
    private readonly google: GoogleWalletGateway,
    private readonly pacer: GooglePacerService,
  ) {}

  async run(d: JobPayloads['google.campaign.objects']): Promise<string> {
    const state = await this.progress.start(d.updateId);
    if (state === null) return 'gone';
    if (state === 'finished') return 'already finished';
    if (state === 'coalesced') return 'coalesced into a newer update';
    // Read fresh (not the issuing cache): the objects must get this content version or a newer one.
    const ctx = await loadIssuingContext(this.db, d.campaignId);
    if (!ctx || ctx.tenantId !== d.tenantId || !ctx.googleClassId) {
      await this.progress.finish(d.updateId, 'DONE');
      return 'gone';
    }
    const cfg = await this.walletConfigurations.findById(ctx.walletConfigurationId);
    const creds = cfg ? this.walletConfigurations.decryptGoogle(cfg) : null;
    if (!cfg || !creds) {
      await this.progress.failRest(d.updateId);
      return 'no Google credentials';
    }
    const client = this.google.client(cfg.id, cfg.version, creds.serviceAccountKey);
    const type = GOOGLE_TYPE_BY_STYLE[ctx.passStyle];

    let cursor = state.cursor;
    let doneAhead = new Set(state.doneAhead);
    let patchedTotal = 0;
    for (;;) {
      if (await this.progress.superseded(d.updateId)) {
        await this.progress.finish(d.updateId, 'COALESCED');
        return `coalesced after ${patchedTotal} objects`;
      }
      const page = await this.progress.page(d.campaignId, cursor, state.createdAt, PAGE);
      if (page.length === 0) break;
      const todo = page.filter((p) => !doneAhead.has(p.id));
      const { outcomes, error } = await this.patchPage(todo, (p) =>
        this.patchOne(client, type, ctx, p, creds.issuerId),
      );
      // Done: the longest prefix of the page whose passes all have an outcome (or were done before).
      let prefixEnd = -1;
      for (let i = 0; i < page.length; i++) {
        const p = page[i]!;
        if (doneAhead.has(p.id) || outcomes.has(p.id)) prefixEnd = i;
        else break;
      }
      const newCursor = prefixEnd >= 0 ? page[prefixEnd]!.id : cursor;
      const ahead = page
        .slice(prefixEnd + 1)
        .filter((p) => doneAhead.has(p.id) || outcomes.has(p.id))
        .map((p) => p.id);
      const patched = [...outcomes].filter(([, o]) => o === 'patched').map(([id]) => id);
      const failed = outcomes.size - patched.length;
      await this.progress.advance(d.updateId, newCursor, ahead, patched.length, failed);
      await this.passes.clearGoogleErrors(patched);
      patchedTotal += patched.length;
      cursor = newCursor;
      doneAhead = new Set(ahead);
      if (error) throw error;
    }
    await this.progress.finish(d.updateId, 'DONE');
    return `patched ${patchedTotal} objects`;
  }

  /**
   * Patches the passes with up to WINDOW in flight. A retryable error (Google away) stops new
   * starts; what is in flight finishes; the error is returned for the queue to retry later.
   */
  private async patchPage(
    passes: Pass[],
    patch: (p: Pass) => Promise<Outcome>,
  ): Promise<{ outcomes: Map<string, Outcome>; error?: Error }> {
    const outcomes = new Map<string, Outcome>();
    let next = 0;
    let error: Error | undefined;
    const lane = async () => {
      while (!error && next < passes.length) {
        const p = passes[next++]!;
        try {
          outcomes.set(p.id, await patch(p));
        } catch (err) {
          error ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WINDOW, passes.length) }, lane));
    return { outcomes, error };
  }

  private async patchOne(
    client: GoogleWalletClient,
    type: GoogleWalletType,
    ctx: CampaignIssuingContext,
    pass: Pass,
    issuerId: string,
  ): Promise<Outcome> {
    const objectId = pass.googleObjectId!;
    const { id: _id, classId: _classId, ...changes } = this.content.googleObject(ctx, pass, objectId);
    for (let limited = 0; ; limited++) {
      await this.pacer.acquire(issuerId);
      try {
        await client.patchObject(type, objectId, changes);
        return 'patched';
      } catch (err) {
        if (!(err instanceof GoogleWalletError)) throw err;
        if (err.status === 429 && limited < MAX_RATE_LIMITED) {
          await this.pacer.pause(issuerId, err.retryAfterMs);
          continue;
        }
        if (err.retryable) throw err;
        // Google refused this object for good (deleted, invalid): count it and go on.
        this.logger.warn(
          { passId: pass.id, status: err.status, reason: err.reason },
          'Google Wallet refused an object patch',
        );
        await this.passes.recordGoogleError(pass.id, err.message);
        return 'failed';
      }
    }
  }
}
