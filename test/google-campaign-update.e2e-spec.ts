import { startFakeGoogle, type FakeGoogle, type StoredResource } from './support/fake-google';
import {
  campaignBody,
  createCampaign,
  createWalletConfiguration,
  linkPath,
  makeLinks,
  type WalletFixture,
} from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wallet-device';

const PASSES = 1000;
const RATE = 250;

/**
 * A campaign change reaches every saved Google pass: the class through the class, field labels and
 * texts through a PATCH of every object, made by the worker (paced per issuer, resumable,
 * counted in the update's progress).
 */
describe('campaign changes on Google Wallet objects (e2e)', () => {
  let t: TestApp;
  let google: FakeGoogle;
  let key: string;
  let cfg: WalletFixture;
  let n = 0;

  beforeAll(async () => {
    google = await startFakeGoogle();
    t = await startTestApp({
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      GOOGLE_REQUEST_TIMEOUT_MS: '1000',
      GOOGLE_REQUESTS_PER_SECOND: String(RATE),
    });
    key = (await t.createTenant()).apiKey;
    cfg = await createWalletConfiguration(t, key, { google: true, registerWith: google });
  });
  afterAll(async () => {
    await t?.close();
    await google?.close();
  });

  /**
   * A campaign with PASSES saved Google passes: two issued through their links (the service writes
   * their objects to the fake Google), the rest seeded as rows plus objects cloned from the first,
   * which is what those links would have produced.
   */
  async function campaignWithGooglePasses(): Promise<{ id: string; objectIds: string[] }> {
    const campaign = await createCampaign(t, key, cfg.id);
    const tag = `g${++n}x${Date.now().toString(36)}`;
    const urls = await makeLinks(
      t,
      key,
      [1, 2].map((i) => ({
        campaignId: campaign.id,
        platform: 'GOOGLE',
        contact: { id: `${tag}-c${i}`, firstName: 'Ada' },
        voucher: { code: `${tag}-V${i}`, title: '10% off' },
      })),
    );
    for (const url of urls) expect((await t.request('GET', linkPath(url))).status).toBe(302);
    const issued = await t.db.query<{ google_object_id: string }>(
      `SELECT google_object_id FROM passes WHERE campaign_id = $1 ORDER BY created_at`,
      [campaign.id],
    );
    expect(issued.rows).toHaveLength(2);
    const model = google.objects.get(issued.rows[0]!.google_object_id)!;
    expect(model).toBeDefined();

    const seeded = await t.db.query<{ google_object_id: string }>(
      `INSERT INTO passes (tenant_id, campaign_id, identity, serial_number, authentication_token, data,
                           google_object_id, google_object_synced_at)
       SELECT c.tenant_id, c.id, 'v:' || $2 || '-S' || g, $2 || 's' || g, md5($2 || g) || md5(g::text),
              jsonb_build_object('contact', jsonb_build_object('id', $2 || '-sc' || g, 'firstName', 'Grace'),
                                 'voucher', jsonb_build_object('code', $2 || '-S' || g, 'title', g || '% off')),
              $3 || '.pass_' || $2 || 's' || g, now()
         FROM campaigns c, generate_series(1, $4::int) g WHERE c.id = $1
       RETURNING google_object_id`,
      [campaign.id, tag, cfg.issuerId, PASSES - 2],
    );
    for (const row of seeded.rows) {
      const copy: StoredResource = { ...model, id: row.google_object_id };
      google.objects.set(row.google_object_id, copy);
    }
    return {
      id: campaign.id,
      objectIds: [...issued.rows, ...seeded.rows].map((r) => r.google_object_id),
    };
  }

  const relabel = (campaignId: string, label: string) =>
    t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: {
        template: {
          ...campaignBody(cfg.id).template,
          primaryFields: [{ key: 'offer', label, value: '{{voucher.title|Summer deal}}' }],
        },
      },
    });
  const progress = (campaignId: string, updateId: string) =>
    t.request('GET', `/api/v1/campaigns/${campaignId}/updates/${updateId}`, { token: key });
  const headers = (objectId: string) =>
    ((google.objects.get(objectId)?.textModulesData ?? []) as { header?: string }[]).map((m) => m.header);

  it('patches every saved object with a changed field label, paced per issuer, and counts it', async () => {
    const campaign = await campaignWithGooglePasses();
    for (const id of campaign.objectIds) expect(headers(id)).toContain('Offer');
    const patchesBefore = new Map(campaign.objectIds.map((id) => [id, google.objectPatches.get(id) ?? 0]));

    const started = Date.now();
    const res = await relabel(campaign.id, 'Your deal');
    expect(res.status).toBe(200);
    const updateId = res.body.updateId as string;
    expect(updateId).toEqual(expect.any(String));

    const done = await eventually(
      () => progress(campaign.id, updateId),
      (r) => r.body.status === 'DONE',
      60_000,
      250,
    );
    expect(done.body.status).toBe('DONE');
    expect(done.body.google).toEqual({
      status: 'DONE',
      total: PASSES,
      patched: PASSES,
      failed: 0,
      pending: 0,
    });
    for (const id of campaign.objectIds) {
      expect([id, headers(id)]).toEqual([id, expect.arrayContaining(['Your deal'])]);
      expect([id, (google.objectPatches.get(id) ?? 0) - patchesBefore.get(id)!]).toEqual([id, 1]);
    }
    // The worker, not the request, made the calls: none before the PATCH answered was to an object.
    const objectCalls = google.requests.filter(
      (r) => r.method === 'PATCH' && r.path.startsWith('/walletobjects/v1/offerObject/') && r.at >= started,
    );
    expect(objectCalls.length).toBe(PASSES);
    // Paced: the pacer admits RATE calls per whole second when they are sent; the fake sees them
    // when they arrive, so the up to 8 calls in flight at a window's end may land in the next second.
    const IN_FLIGHT = 8;
    const perSecond = new Map<number, number>();
    for (const r of objectCalls) {
      const s = Math.floor(r.at / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(RATE + IN_FLIGHT);
    expect(perSecond.size).toBeGreaterThanOrEqual(Math.ceil(PASSES / RATE));
    // Personal texts stay personal: each object keeps its own rendered value.
    const first = google.objects.get(campaign.objectIds[0]!)!;
    expect(JSON.stringify(first.textModulesData)).toContain('10% off');
  }, 90_000);

  it('finishes after Google was down mid-way, patching no object twice', async () => {
    const campaign = await campaignWithGooglePasses();
    const before = new Map(campaign.objectIds.map((id) => [id, google.objectPatches.get(id) ?? 0]));
    const patchedSince = () =>
      campaign.objectIds.filter((id) => google.objectPatches.get(id)! > before.get(id)!);

    const res = await relabel(campaign.id, 'Outage-proof');
    expect(res.status).toBe(200);
    const updateId = res.body.updateId as string;

    await eventually(
      async () => patchedSince().length,
      (k) => k >= 300,
      30_000,
      20,
    );
    google.setOutage(true);
    let stalled: number;
    try {
      await new Promise((r) => setTimeout(r, 2500));
      stalled = patchedSince().length;
      expect(stalled).toBeLessThan(PASSES);
      const during = await progress(campaign.id, updateId);
      expect(during.body.status).toBe('RUNNING');
      expect(during.body.google.pending).toBeGreaterThan(0);
      expect(during.body.google.patched + during.body.google.pending).toBe(PASSES);
    } finally {
      google.setOutage(false);
    }

    const done = await eventually(
      () => progress(campaign.id, updateId),
      (r) => r.body.status === 'DONE',
      60_000,
      250,
    );
    expect(done.body.google).toMatchObject({ status: 'DONE', total: PASSES, patched: PASSES, failed: 0 });
    for (const id of campaign.objectIds) {
      expect([id, google.objectPatches.get(id)! - before.get(id)!]).toEqual([id, 1]);
      expect(headers(id)).toContain('Outage-proof');
    }
  }, 120_000);

  it('honours 429 with Retry-After and still patches every object once', async () => {
    const campaign = await campaignWithGooglePasses();
    const before = new Map(campaign.objectIds.map((id) => [id, google.objectPatches.get(id) ?? 0]));
    const res = await relabel(campaign.id, 'Throttled');
    const updateId = res.body.updateId as string;
    await eventually(
      async () => campaign.objectIds.filter((id) => google.objectPatches.get(id)! > before.get(id)!).length,
      (k) => k >= 200,
      30_000,
      20,
    );
    const limitedFrom = Date.now();
    google.setRateLimited(true, 2);
    await new Promise((r) => setTimeout(r, 300));
    google.setRateLimited(false);
    const done = await eventually(
      () => progress(campaign.id, updateId),
      (r) => r.body.status === 'DONE',
      60_000,
      250,
    );
    expect(done.body.google).toMatchObject({ status: 'DONE', patched: PASSES, failed: 0 });
    for (const id of campaign.objectIds) {
      expect([id, google.objectPatches.get(id)! - before.get(id)!]).toEqual([id, 1]);
    }
    // After the first 429 the issuer's calls waited for Retry-After (2 s), give or take the in-flight ones.
    const limited = google.requests.filter((r) => r.status === 429 && r.at >= limitedFrom);
    expect(limited.length).toBeGreaterThan(0);
    const firstLimited = Math.min(...limited.map((r) => r.at));
    const quietWindow = google.requests.filter(
      (r) => r.method === 'PATCH' && r.at > firstLimited + 200 && r.at < firstLimited + 1800,
    );
    expect(quietWindow.length).toBeLessThanOrEqual(8);
  }, 90_000);

  it('a newer campaign version supersedes an older one still in flight', async () => {
    const campaign = await campaignWithGooglePasses();
    const first = await relabel(campaign.id, 'First');
    const second = await relabel(campaign.id, 'Second');
    const firstId = first.body.updateId as string;
    const secondId = second.body.updateId as string;
    const done = await eventually(
      () => progress(campaign.id, secondId),
      (r) => r.body.status === 'DONE',
      60_000,
      250,
    );
    expect(done.body.google).toMatchObject({ status: 'DONE', patched: PASSES });
    const older = await eventually(
      () => progress(campaign.id, firstId),
      (r) => ['DONE', 'COALESCED'].includes(r.body.google.status),
      30_000,
      250,
    );
    expect(older.body.google.status).toBe('COALESCED');
    expect(older.body.google.patched).toBeLessThan(PASSES);
    for (const id of campaign.objectIds) expect(headers(id)).toContain('Second');
  }, 90_000);
});
