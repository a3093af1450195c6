/**
 * `GET /api/pass/create/:jwt` for APPLE end to end over HTTP: the real app (ROLE=api, own database,
 * own process) verifies the link, finds or creates the pass row, builds and signs the .pkpass with
 * ~115 KB of incompressible artwork (icon, logo, strip). Load from a worker thread over keep-alive
 * connections. Target (PERFORMANCE.md): ≥ 500 passes/s in one process.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/pass-issuing-http.bench.ts
 *
 * Two phases: "new" taps each pre-generated link once (distinct voucher codes: every tap inserts a
 * pass), "re-tap" cycles over the links already used (the pass exists: no insert, same serial).
 * BENCH_SECONDS (default 8) per phase; BENCH_CLIENTS (default 8) concurrent taps; BENCH_LINKS
 * (default 20000) links for the "new" phase; BENCH_CPU_PROF=1 adds a profiled run of each phase.
 */
import { Client } from 'pg';

import { buildPassJson } from '../src/integrations/pkpass/pass-json.mapper';
import { PassSigningMaterial } from '../src/integrations/pkpass/pass-signing-material';
import { buildPkpass } from '../src/integrations/pkpass/pkpass-builder';
import { makePng, sharedPki, type WalletFixture } from '../test/support/fixtures';
import { type BenchApp, createBenchCampaign, startBenchApp } from './lib/bench-app';
import { type Phase, printProfileSummary } from './lib/cpu-profile';
import { assertHealthy, type LoadOptions, measure, runLoad } from './lib/load';
import { fmtMb, fmtMs, fmtRate, loadAverageNow, machineNote, MarkdownTable, summarize } from './lib/stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const LINKS = Number(process.env.BENCH_LINKS ?? 20_000);
const WARMUP_LINKS = 1000;
const BATCH = 1000;
const TARGET_PASSES_PER_SECOND = 500;
const PKPASS_MIME_TYPE = 'application/vnd.apple.pkpass';

/** How the profile splits a tap's main-thread time (first match along the stack wins). */
const PHASES: Phase[] = [
  ['link verify (HMAC)', /src\/modules\/links\/link-token\.ts/],
  ['database (pg, typeorm)', / (pg|pg-protocol|pg-pool|typeorm)\//],
  ['pkpass: zip', /src\/integrations\/pkpass\/zip\.ts/],
  ['pkpass: SHA-1 manifest, CMS (signing itself runs on the libuv pool)', /src\/integrations\/pkpass\//],
  ['pass.json: template render + mapping', /src\/modules\/(passes|campaigns)\//],
  ['response: socket write', /^(writev|writevGeneric|Socket\._writeGeneric|Socket\._writev)( |$)/],
];

/** Artwork that does not compress (random pixels), like photos: ~115 KB in three PNGs. */
function artwork(): Record<string, Buffer> {
  return {
    icon: makePng(29, 29, true),
    logo: makePng(160, 50, true),
    strip: makePng(375, 68, true),
  };
}

/** `count` distinct links (one voucher code each) through POST /pers/v1/urls, as URL paths. */
async function makeLinkPaths(
  app: BenchApp,
  apiKey: string,
  campaignId: string,
  prefix: string,
  count: number,
): Promise<string[]> {
  const paths: string[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const requests = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => {
      const n = start + k;
      return {
        campaignId,
        platform: 'APPLE',
        contact: {
          id: `${prefix}-contact-${n}`,
          firstName: 'Ada',
          lastName: `Lovelace ${n}`,
          email: `ada.${prefix}.${n}@example.com`,
        },
        voucher: { code: `${prefix}-${String(n).padStart(6, '0')}`, value: '15%', title: 'Summer voucher' },
      };
    });
    const res = await app.request<{ urls: Array<{ url?: string }> }>('POST', '/pers/v1/urls', {
      token: apiKey,
      body: { requests },
    });
    if (res.status !== 200) throw new Error(`links: ${res.status} ${res.text.slice(0, 300)}`);
    for (const u of res.body.urls) {
      if (!u.url) throw new Error(`link error: ${JSON.stringify(u)}`);
      paths.push(new URL(u.url).pathname);
    }
  }
  return paths;
}

async function sanityCheck(app: BenchApp, path: string, artworkBytes: number): Promise<number> {
  const first = await app.request('GET', path);
  const again = await app.request('GET', path);
  for (const res of [first, again]) {
    const type = res.headers.get('content-type') ?? '';
    if (res.status !== 200 || !type.startsWith(PKPASS_MIME_TYPE)) {
      throw new Error(`GET ${path.slice(0, 60)}… answered ${res.status} ${type}: ${res.text.slice(0, 300)}`);
    }
    if (res.raw.length < artworkBytes || res.raw.subarray(0, 2).toString('latin1') !== 'PK') {
      throw new Error(`the pkpass is ${res.raw.length} bytes or not a zip`);
    }
  }
  if (first.headers.get('x-pass-serial') !== again.headers.get('x-pass-serial')) {
    throw new Error('the same link made two passes');
  }
  return first.raw.length;
}

/**
 * The pass build alone (pass.json, SHA-1 manifest, CMS signature on the libuv pool, zip) in this
 * process with the same certificate and artwork: what the end-to-end rows compare with, measured on
 * the machine as loaded right now.
 */
async function inProcessCeiling(wallet: WalletFixture, images: Record<string, Buffer>, seconds: number) {
  const material = new PassSigningMaterial({
    certificatePem: wallet.pass.certificatePem,
    privateKeyPem: wallet.pass.privateKeyPem,
    wwdrCertificatePem: sharedPki().wwdr.certPem,
  });
  const files = Object.fromEntries(Object.entries(images).map(([name, png]) => [`${name}.png`, png]));
  const build = (i: number) =>
    buildPkpass({
      passJson: buildPassJson({
        style: 'coupon',
        passTypeIdentifier: wallet.pass.passTypeIdentifier,
        teamIdentifier: wallet.pass.teamIdentifier,
        serialNumber: `ceiling-${i}`,
        authenticationToken: 'a'.repeat(32),
        webServiceURL: 'https://wallet.bench.example',
        template: {
          organizationName: 'Acme',
          description: 'Acme summer voucher',
          logoText: 'Acme',
          backgroundColor: '#1E88E5',
          foregroundColor: '#FFFFFF',
          labelColor: '#E3F2FD',
          headerFields: [{ key: 'value', label: 'Value', value: '15%' }],
          primaryFields: [{ key: 'offer', label: 'Offer', value: 'Summer voucher' }],
          secondaryFields: [{ key: 'name', label: 'Name', value: `Ada Lovelace ${i}` }],
          auxiliaryFields: [],
          backFields: [{ key: 'terms', label: 'Terms', value: 'Valid until 31 August' }],
          barcode: { format: 'QR', message: `NEW-${i}`, altText: `NEW-${i}` },
        },
      }),
      files,
      signing: material,
    });
  for (let i = 0; i < 50; i++) await build(i);
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let next = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await build(next++);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, loop));
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const lat = summarize(latencies);
  return {
    ...lat,
    perSecond: lat.count / wall,
    cpuMsPerPass: (cpu.user + cpu.system) / 1000 / lat.count,
  };
}

async function countPasses(app: BenchApp): Promise<number> {
  const db = new Client({ connectionString: app.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM passes');
    return Number(rows[0]!.n);
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  console.log('## GET /api/pass/create/:jwt, APPLE, end to end over HTTP\n');
  console.log(machineNote());
  const app = await startBenchApp({ name: 'pass_issuing' });
  try {
    const images = artwork();
    const artworkBytes = Object.values(images).reduce((sum, png) => sum + png.length, 0);
    const { apiKey, campaignId, wallet } = await createBenchCampaign(app, {
      images: Object.fromEntries(Object.entries(images).map(([name, png]) => [name, png.toString('base64')])),
    });
    const warmup = await makeLinkPaths(app, apiKey, campaignId, 'WARM', WARMUP_LINKS);
    const fresh = await makeLinkPaths(app, apiKey, campaignId, 'NEW', LINKS);
    const pkpassBytes = await sanityCheck(app, warmup[0]!, artworkBytes);
    console.log(
      `app pid ${app.pid} (ROLE=api, LOG_LEVEL=warn, NODE_ENV=production, transpiled TypeScript, no ts-node) on ${app.url}; ` +
        `artwork ${(artworkBytes / 1024).toFixed(1)} KiB in ${Object.keys(images).length} PNGs, ` +
        `pkpass ${(pkpassBytes / 1024).toFixed(1)} KiB; ${fresh.length} fresh links, ${CLIENTS} concurrent clients; ` +
        `load from a worker thread in the bench process, keep-alive, one socket per client\n`,
    );

    const load = (paths: string[], order: 'once' | 'cycle', seconds: number): LoadOptions => ({
      origin: app.url,
      method: 'GET',
      paths,
      order,
      concurrency: CLIENTS,
      seconds,
      maxRequests: Math.ceil(seconds * 5000),
    });
    const warm = await runLoad(load(warmup.slice(1), 'once', 3));
    if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} failed; first: ${warm.firstError}`);

    const table = new MarkdownTable([
      'phase',
      'passes/s',
      'p50 ms',
      'p99 ms',
      'passes',
      'stopped by',
      'app CPU cores (main thread)',
      'app CPU ms/pass (main thread)',
      'PostgreSQL CPU ms/pass',
      'app RSS / peak MB',
      'client CPU (cores)',
    ]);
    table.header();
    const row = (phase: string, m: Awaited<ReturnType<typeof measure>>) => {
      const lat = summarize(m.load.latenciesMs);
      table.row([
        phase,
        fmtRate(m.perSecond),
        fmtMs(lat.p50),
        fmtMs(lat.p99),
        m.load.ok,
        m.load.stoppedBy,
        `${m.appCpuCores.toFixed(2)} (${m.appMainThreadCores.toFixed(2)})`,
        `${fmtMs((m.appCpuCores * 1000) / m.perSecond)} (${fmtMs((m.appMainThreadCores * 1000) / m.perSecond)})`,
        fmtMs((m.postgresCpuCores * 1000) / m.perSecond),
        `${fmtMb(m.appAfter.rssBytes)} / ${fmtMb(m.appAfter.maxRssBytes)}`,
        m.clientCpuCores.toFixed(2),
      ]);
    };

    const newPasses = await measure(app, load(fresh, 'once', SECONDS));
    assertHealthy('new passes', newPasses);
    row('new (insert + build)', newPasses);
    const used = fresh.slice(0, newPasses.load.started);
    const reTaps = await measure(app, load(used, 'cycle', SECONDS));
    assertHealthy('re-taps', reTaps);
    row('re-tap (existing pass)', reTaps);

    const ceiling = await inProcessCeiling(wallet, images, Math.min(3, SECONDS));
    table.row([
      `in-process buildPkpass only, ${CLIENTS} in flight`,
      fmtRate(ceiling.perSecond),
      fmtMs(ceiling.p50),
      fmtMs(ceiling.p99),
      ceiling.count,
      'time',
      '',
      fmtMs(ceiling.cpuMsPerPass),
      '',
      '',
      '',
    ]);

    const rows = await countPasses(app);
    const expected = 1 + warm.started + newPasses.load.started;
    if (rows !== expected) throw new Error(`passes table has ${rows} rows, expected ${expected}`);
    const best = Math.max(newPasses.perSecond, reTaps.perSecond);
    console.log(
      `\npass rows ${rows} (one per distinct link, re-taps made none). ` +
        `New passes ${fmtRate(newPasses.perSecond)}/s: ` +
        `${newPasses.perSecond >= TARGET_PASSES_PER_SECOND ? 'meets' : 'MISSES'} the ${TARGET_PASSES_PER_SECOND}/s target ` +
        `(best phase ${fmtRate(best)}/s); new passes at ${((100 * newPasses.perSecond) / ceiling.perSecond).toFixed(0)}% ` +
        `of the in-process build rate measured alongside (compare this ratio across machines and loads); ` +
        `load average after: ${loadAverageNow()}`,
    );

    if (process.env.BENCH_CPU_PROF === '1' || newPasses.perSecond < TARGET_PASSES_PER_SECOND) {
      const rest = fresh.slice(newPasses.load.started);
      const seconds = Math.min(5, SECONDS);
      if (rest.length > 0) {
        const { profilePath } = await app.profile('new', () => measure(app, load(rest, 'once', seconds)));
        printProfileSummary(profilePath, PHASES);
      }
      const { profilePath } = await app.profile('retap', () => measure(app, load(used, 'cycle', seconds)));
      printProfileSummary(profilePath, PHASES);
    }
  } finally {
    await app.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
