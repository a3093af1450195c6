import { Injectable } from '@nestjs/common';
import { CampaignsService } from '../campaigns/campaigns.service';
import { PassContentService } from '../passes/pass-content.service';
import { lastModifiedOf } from '../passes/pass-issuing.service';
import { PassesRepository } from '../passes/passes.repository';
import { appleAuthFailure, assertAuthenticated, requestToken } from './apple-pass-auth';
import { notModifiedSince } from './apple-protocol';

export interface LatestPassRequest {
  passTypeIdentifier: string;
  serialNumber: string;
  authorization: string | undefined;
  ifModifiedSince: string | undefined;
  /** HEAD: answer the status and headers without building the bundle. */
  withoutBody: boolean;
}

export type LatestPass =
  { status: 304; lastModified: Date } | { status: 200; lastModified: Date; pkpass: Buffer | null };

/**
 * `GET /v1/passes/:passTypeIdentifier/:serialNumber`: the pass rebuilt from its current data and
 * campaign. Last-Modified is the later of the pass's and the campaign's content change; both move
 * to a later whole second on every change, so If-Modified-Since (one-second precision) never hides
 * a change. A voided pass is still served, marked voided.
 */
@Injectable()
export class ApplePassDeliveryService {
  constructor(
    private readonly passes: PassesRepository,
    private readonly campaigns: CampaignsService,
    private readonly content: PassContentService,
  ) {}

  async latest(req: LatestPassRequest): Promise<LatestPass> {
    const token = requestToken(req.authorization, req.passTypeIdentifier, req.serialNumber);
    const pass = await this.passes.findBySerial(req.serialNumber);
    assertAuthenticated(pass, req.passTypeIdentifier, token);
    const ctx = await this.campaigns.issuingContext(pass.campaignId);
    if (!ctx || ctx.tenantId !== pass.tenantId) throw appleAuthFailure();
    const lastModified = lastModifiedOf(pass, ctx);
    if (notModifiedSince(lastModified, req.ifModifiedSince)) return { status: 304, lastModified };
    const pkpass = req.withoutBody ? null : await this.content.buildApplePass(ctx, pass);
    return { status: 200, lastModified, pkpass };
  }
}
