/**
 * One tenant cannot starve another on `POST /pers/v1/urls`: a quiet tenant sends small batches
 * (BENCH_QUIET_BATCH items, default 100, one client) while a noisy tenant saturates link
 * generation (BENCH_NOISY_CLIENTS clients, 1,000-item batches, as fast as answers come back,
 * ignoring Retry-After). The quiet tenant's p99 under that load is compared with its p99 alone,
 * in the same app process, once without a per-tenant limit and once with
 * TENANT_RATE_LIMIT_LINK_URLS (BENCH_TENANT_LIMIT, default 60,000 URLs per minute). The loaded run
 * starts once the noisy tenant has been refused (its minute's budget spent), i.e. in the steady
 * state of saturation; the burst that spends the budget is reported apart.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/tenant-fairness.bench.ts
 *
 * BENCH_SECONDS (default 8) per measured run. Target: loaded p99 ≤ 2 × idle p99 with the limit.
 */
import { randomUUID } from 'node:crypto';

import { type BenchApp, createBenchCampaign, startBenchApp } from './lib/bench-app';
import { type LoadOptions, runLoad } from './lib/load';
import { fmtMs, fmtRate, loadAverageNow, machineNote, MarkdownTable, summarize } from './lib/stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const QUIET_BATCH = Number(process.env.BENCH_QUIET_BATCH ?? 100);
const NOISY_BATCH = 1000;
const NOISY_CLIENTS = Number(process.env.BENCH_NOISY_CLIENTS ?? 4);
const TENANT_LIMIT = Number(process.env.BENCH_TENANT_LIMIT ?? 60_000);

function batch(campaignId: string, size: number, salt: number): Buffer {
  const requests = Array.from({ length: size }, (_, i) => ({
    campaignId,
    platform: 'APPLE',
    contact: {
      id: randomUUID(),
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: `ada.${salt}.${i}@example.com`,
    },
    voucher: { code: `FAIR-${salt}-${i}`, value: '10%' },
  }));
  return Buffer.from(JSON.stringify({ requests }), 'utf8');
}

interface Row {
  setting: string;
  idleP50: number;
  idleP99: number;
  loadedP50: number;
  loadedP99: number;
  burstP99: number;
  noisyUrlsPerSecond: number;
  noisyRefusedPerSecond: number;
}

async function measureSetting(setting: string, limit: number): Promise<Row> {
  const app: BenchApp = await startBenchApp({
    name: 'fairness',
    env: { TENANT_RATE_LIMIT_LINK_URLS: String(limit) },
  });
  try {
    const quiet = await createBenchCampaign(app);
    const noisy = await createBenchCampaign(app);
    const quietLoad = (seconds: number): LoadOptions => ({
      origin: app.url,
      method: 'POST',
      paths: ['/pers/v1/urls'],
      bodies: Array.from({ length: 8 }, (_, i) => batch(quiet.campaignId, QUIET_BATCH, i)),
      headers: { authorization: `Bearer ${quiet.apiKey}`, 'content-type': 'application/json' },
      concurrency: 1,
      seconds,
    });
    const noisyLoad = (seconds: number): LoadOptions => ({
      origin: app.url,
      method: 'POST',
      paths: ['/pers/v1/urls'],
      bodies: Array.from({ length: 8 }, (_, i) => batch(noisy.campaignId, NOISY_BATCH, 100 + i)),
      headers: { authorization: `Bearer ${noisy.apiKey}`, 'content-type': 'application/json' },
      concurrency: NOISY_CLIENTS,
      seconds,
      // 429s are part of the load, not a failure of the run.
      maxErrors: 1e9,
    });
    await runLoad(quietLoad(2)); // warm-up
    const idle = await runLoad(quietLoad(SECONDS));
    if (idle.errors > 0) throw new Error(`quiet tenant alone: ${JSON.stringify(idle.statuses)}`);

    // The noisy tenant starts; the quiet one measures the burst (2 s), then the steady state.
    const noisyRun = runLoad(noisyLoad(2 + SECONDS + 1));
    const burst = await runLoad(quietLoad(2));
    const loaded = await runLoad(quietLoad(SECONDS));
    const noisyResult = await noisyRun;
    if (loaded.errors > 0 || burst.errors > 0) {
      throw new Error(`quiet tenant under load was refused: ${JSON.stringify(loaded.statuses)}`);
    }
    const idleLat = summarize(idle.latenciesMs);
    const loadedLat = summarize(loaded.latenciesMs);
    return {
      setting,
      idleP50: idleLat.p50,
      idleP99: idleLat.p99,
      loadedP50: loadedLat.p50,
      loadedP99: loadedLat.p99,
      burstP99: summarize(burst.latenciesMs).p99,
      noisyUrlsPerSecond: (noisyResult.ok * NOISY_BATCH) / noisyResult.elapsedSeconds,
      noisyRefusedPerSecond: (noisyResult.statuses['429'] ?? 0) / noisyResult.elapsedSeconds,
    };
  } finally {
    await app.stop();
  }
}

async function main(): Promise<void> {
  console.log(`## Tenant fairness on POST /pers/v1/urls\n`);
  console.log(machineNote());
  console.log(
    `quiet tenant: 1 client, ${QUIET_BATCH}-item batches; noisy tenant: ${NOISY_CLIENTS} clients, ${NOISY_BATCH}-item ` +
      `batches, retrying at once on 429; ${SECONDS} s per measured run; one app process (ROLE=api)\n`,
  );
  const table = new MarkdownTable([
    'setting',
    'quiet p50 / p99 alone (ms)',
    'quiet p50 / p99 while noisy saturates (ms)',
    'p99 ratio',
    'quiet p99 in the first 2 s (burst, ms)',
    'noisy URLs/s admitted',
    'noisy 429/s',
  ]);
  table.header();
  const rows: Row[] = [];
  for (const [setting, limit] of [
    ['no per-tenant limit (TENANT_RATE_LIMIT_LINK_URLS=0)', 0],
    [`TENANT_RATE_LIMIT_LINK_URLS=${TENANT_LIMIT}`, TENANT_LIMIT],
  ] as const) {
    const r = await measureSetting(setting, limit);
    rows.push(r);
    table.row([
      r.setting,
      `${fmtMs(r.idleP50)} / ${fmtMs(r.idleP99)}`,
      `${fmtMs(r.loadedP50)} / ${fmtMs(r.loadedP99)}`,
      `${(r.loadedP99 / r.idleP99).toFixed(2)}×`,
      fmtMs(r.burstP99),
      fmtRate(r.noisyUrlsPerSecond),
      fmtRate(r.noisyRefusedPerSecond),
    ]);
  }
  const limited = rows[rows.length - 1]!;
  const ratio = limited.loadedP99 / limited.idleP99;
  console.log(
    `\nwith the limit, the quiet tenant's p99 under saturation is ${ratio.toFixed(2)}× its idle p99: ` +
      `${ratio <= 2 ? 'meets' : 'MISSES'} the 2× target; load average after: ${loadAverageNow()}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
