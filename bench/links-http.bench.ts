/**
 * `POST /pers/v1/urls` end to end over HTTP: 1,000-item batches (contact id/firstName/lastName/email,
 * voucher code/value/title) against the real app (ROLE=api, own database, own process), load from a
 * worker thread over keep-alive connections. Target (PERFORMANCE.md): ≥ 60,000 URLs/s in one process.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/links-http.bench.ts
 *
 * BENCH_SECONDS (default 8) per row; BENCH_CLIENTS (default "1,4") concurrent clients per row;
 * BENCH_CPU_PROF=1 adds a profiled run and prints where the app's time goes (also done on its own
 * when the best row misses the target).
 */
import { randomUUID } from 'node:crypto';

import type { AppConfig } from '../src/config/app-config';
import { parseLinkSigningKeys } from '../src/config/app-config';
import { LinksService } from '../src/modules/links/links.service';

import { type BenchApp, createBenchCampaign, startBenchApp } from './lib/bench-app';
import { type Phase, printProfileSummary } from './lib/cpu-profile';
import { assertHealthy, measure, runLoad } from './lib/load';
import { fmtMb, fmtMs, fmtRate, loadAverageNow, machineNote, MarkdownTable, summarize } from './lib/stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,4').split(',').map(Number);
const BATCH = 1000;
const DISTINCT_BODIES = 8;
const TARGET_URLS_PER_SECOND = 60_000;

const FIRST_NAMES = ['Ada', 'Grace', 'Zoë', 'Linus', 'Margaret', 'José', 'Ngozi', 'Yuki', 'Øystein', 'Priya'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Hamilton', 'Torvalds', 'Okonkwo', 'Müller', 'Tanaka', 'Nakamura'];
const TITLES = ['Summer voucher: save on your next order', '10% off everything', 'Free coffee with any cake'];

/** How the profile splits a request's main-thread time (first match along the stack wins). */
const PHASES: Phase[] = [
  [
    'request body: Buffer→string + JSON.parse (secure-json-parse)',
    /secure-json-parse|content-type-parser\.js/,
  ],
  ['signing: LinkTokenCodec.sign (HMAC-SHA256, base64url)', /src\/modules\/links\/link-token\.ts/],
  ['validation: validateLinkRequest', /src\/modules\/links\/link-request\.validator\.ts/],
  ['response: JSON.stringify (fastify serialize)', /^serialize fastify\/lib\/reply\.js/],
  ['response: socket write', /^(writev|writevGeneric|Socket\._writeGeneric|Socket\._writev)( |$)/],
  ['socket read', /^onStreamRead /],
];

/** One request body as the email personalisation service would send it. */
function batchBody(campaignId: string, batchNo: number): Buffer {
  const requests = Array.from({ length: BATCH }, (_, i) => {
    const n = batchNo * BATCH + i;
    const first = FIRST_NAMES[n % FIRST_NAMES.length]!;
    const last = LAST_NAMES[(n * 7) % LAST_NAMES.length]!;
    return {
      campaignId,
      platform: 'APPLE',
      contact: {
        id: randomUUID(),
        firstName: first,
        lastName: last,
        email: `${first.toLowerCase()}.${last.toLowerCase()}.${n}@example.com`,
      },
      voucher: {
        code: `SUMMER25-${n.toString(36).toUpperCase().padStart(7, '0')}`,
        value: `${5 + (n % 4) * 5}%`,
        title: TITLES[n % TITLES.length],
      },
    };
  });
  return Buffer.from(JSON.stringify({ requests }), 'utf8');
}

/**
 * The same work without HTTP, Nest or Fastify, in this process on one thread: JSON.parse of the
 * request body, LinksService.generate (validation + signing), JSON.stringify of the answer. The
 * ceiling that the end-to-end rows compare with, measured on the machine as loaded right now.
 */
function inProcessCeiling(app: BenchApp, bodies: Buffer[], seconds: number) {
  const config = {
    linkSigningKeys: parseLinkSigningKeys(app.env.LINK_SIGNING_KEYS!),
    publicBaseUrl: app.env.PUBLIC_BASE_URL!,
    linkBatchLimit: BATCH,
  } as AppConfig;
  const service = new LinksService(config);
  const tenantId = randomUUID();
  const one = (body: Buffer) => JSON.stringify(service.generate(tenantId, JSON.parse(body.toString('utf8'))));
  for (let i = 0; i < 20; i++) one(bodies[i % bodies.length]!);
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let now = started;
  while (now - started < seconds * 1000) {
    const t0 = now;
    one(bodies[latencies.length % bodies.length]!);
    now = performance.now();
    latencies.push(now - t0);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const wall = (now - started) / 1000;
  return {
    perSecond: latencies.length / wall,
    latencies,
    cpuMicrosPerUrl: (cpu.user + cpu.system) / (latencies.length * BATCH),
  };
}

/** The answer is 1,000 URLs, and a URL from it issues a pass. */
async function sanityCheck(app: BenchApp, apiKey: string, body: Buffer): Promise<number> {
  const res = await app.request<{ urls: Array<{ url?: string; error?: unknown }> }>('POST', '/pers/v1/urls', {
    token: apiKey,
    body,
    headers: { 'content-type': 'application/json' },
  });
  if (res.status !== 200)
    throw new Error(`POST /pers/v1/urls answered ${res.status}: ${res.text.slice(0, 300)}`);
  const urls = res.body.urls;
  const bad = urls.find((u) => !u.url);
  if (urls.length !== BATCH || bad)
    throw new Error(`expected ${BATCH} URLs, got ${urls.length}; ${JSON.stringify(bad)}`);
  const tap = await app.request('GET', new URL(urls[0]!.url!).pathname);
  if (tap.status !== 200)
    throw new Error(`a generated link answered ${tap.status}: ${tap.text.slice(0, 300)}`);
  return res.raw.length;
}

async function main(): Promise<void> {
  console.log(`## POST /pers/v1/urls, ${BATCH}-item batches, end to end over HTTP\n`);
  console.log(machineNote());
  const app = await startBenchApp({ name: 'links' });
  try {
    const { apiKey, campaignId } = await createBenchCampaign(app);
    const bodies = Array.from({ length: DISTINCT_BODIES }, (_, i) => batchBody(campaignId, i));
    const responseBytes = await sanityCheck(app, apiKey, bodies[0]!);
    console.log(
      `app pid ${app.pid} (ROLE=api, LOG_LEVEL=warn, NODE_ENV=production, transpiled TypeScript, no ts-node) on ${app.url}; ` +
        `request ${(bodies[0]!.length / 1024).toFixed(0)} KiB, answer ${(responseBytes / 1024).toFixed(0)} KiB; ` +
        `load from a worker thread in the bench process, keep-alive, one socket per client\n`,
    );

    const load = (clients: number, seconds: number) => ({
      origin: app.url,
      method: 'POST' as const,
      paths: ['/pers/v1/urls'],
      bodies,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      concurrency: clients,
      seconds,
      maxRequests: Math.ceil(seconds * 2000),
    });
    await runLoad(load(Math.max(...CLIENTS), Math.min(3, SECONDS)));

    const table = new MarkdownTable([
      'clients',
      'URLs/s',
      'batches/s',
      'p50 ms/batch',
      'p99 ms/batch',
      'batches',
      'app CPU cores (main thread)',
      'app CPU µs/URL',
      'app RSS / peak MB',
      'client CPU (cores)',
    ]);
    table.header();
    let best = 0;
    for (const clients of CLIENTS) {
      const m = await measure(app, load(clients, SECONDS));
      assertHealthy(`${clients} clients`, m);
      const lat = summarize(m.load.latenciesMs);
      best = Math.max(best, m.perSecond * BATCH);
      table.row([
        clients,
        fmtRate(m.perSecond * BATCH),
        fmtRate(m.perSecond),
        fmtMs(lat.p50),
        fmtMs(lat.p99),
        m.load.ok,
        `${m.appCpuCores.toFixed(2)} (${m.appMainThreadCores.toFixed(2)})`,
        ((m.appCpuCores * 1e6) / (m.perSecond * BATCH)).toFixed(1),
        `${fmtMb(m.appAfter.rssBytes)} / ${fmtMb(m.appAfter.maxRssBytes)}`,
        m.clientCpuCores.toFixed(2),
      ]);
    }
    const ceiling = inProcessCeiling(app, bodies, Math.min(3, SECONDS));
    const ceilingLat = summarize(ceiling.latencies);
    table.row([
      'in-process, no HTTP (parse + generate + stringify)',
      fmtRate(ceiling.perSecond * BATCH),
      fmtRate(ceiling.perSecond),
      fmtMs(ceilingLat.p50),
      fmtMs(ceilingLat.p99),
      ceilingLat.count,
      '1 thread',
      ceiling.cpuMicrosPerUrl.toFixed(1),
      '',
      '',
    ]);
    const verdict = best >= TARGET_URLS_PER_SECOND ? 'meets' : 'MISSES';
    console.log(
      `\nbest ${fmtRate(best)} URLs/s: ${verdict} the ${fmtRate(TARGET_URLS_PER_SECOND)} URLs/s target; ` +
        `${((100 * best) / (ceiling.perSecond * BATCH)).toFixed(0)}% of the in-process rate measured alongside ` +
        `(compare this ratio across machines and loads); load average after: ${loadAverageNow()}`,
    );

    if (process.env.BENCH_CPU_PROF === '1' || best < TARGET_URLS_PER_SECOND) {
      const clients = Math.max(...CLIENTS);
      const { profilePath } = await app.profile('urls', async () => {
        const m = await measure(app, load(clients, Math.min(5, SECONDS)));
        assertHealthy('profiled run', m);
        return m;
      });
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
