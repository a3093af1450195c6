/**
 * Concurrent pass updates (`PATCH /api/v1/campaigns/:id/passes/:serial`) spread over 4 tenants,
 * against the real app (ROLE=api, own database and process), measured in one run two ways:
 *
 * - **free**: as the service runs now — change tags are transaction ids, no lock between changes;
 * - **one lock**: the same requests funnelled through one transaction-scoped advisory lock taken
 *   when the pass row is updated and held to commit, as every content change did before
 *   (reproduced by a `BEFORE UPDATE` trigger on `passes` that only this benchmark installs).
 *
 * Phases alternate (lock, free, lock, free, …) so drift of this shared machine hits both alike;
 * the medians and their ratio are printed, with app, PostgreSQL and load-generator CPU per phase.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/change-lock.bench.ts
 *
 * BENCH_SECONDS (default 6) per phase, BENCH_RUNS (default 3) phases per mode, BENCH_CLIENTS
 * (default 32) concurrent requests, BENCH_PASSES (default 2,000) passes per tenant.
 */
import { Client } from 'pg';

import { createBenchCampaign, startBenchApp, type BenchCampaign } from './lib/bench-app';
import { assertHealthy, measure, type Measurement } from './lib/load';
import { fmtMs, fmtRate, loadAverageNow, machineNote, MarkdownTable, summarize } from './lib/stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const PASSES = Number(process.env.BENCH_PASSES ?? 2000);
const TENANTS = 4;
/** The advisory lock key every content change took before (see migration 1732260001000). */
const OLD_CHANGE_LOCK_KEY = 7305120;
/** Distinct bodies, prime and above the path count's factors, so a pass never gets the same value twice in a row. */
const BODIES = 7919;

type Mode = 'one lock' | 'free';

async function main(): Promise<void> {
  const app = await startBenchApp({ name: 'change-lock' });
  const db = new Client({ connectionString: app.databaseUrl });
  await db.connect();
  try {
    const tenants: BenchCampaign[] = [];
    for (let i = 0; i < TENANTS; i++) tenants.push(await createBenchCampaign(app));
    for (const [i, c] of tenants.entries()) {
      await db.query(
        `INSERT INTO passes (tenant_id, campaign_id, identity, serial_number, authentication_token,
                             pass_type_identifier, data, apple_issued_at)
         SELECT $1, $2, 'v:LK' || g, 'lk' || $3::int || '-' || g, md5('a' || g) || md5('b' || g), $4,
                jsonb_build_object('contact', jsonb_build_object('id', 'c' || g),
                                   'voucher', jsonb_build_object('code', 'LK' || g, 'value', '0')), now()
           FROM generate_series(1, $5::int) g`,
        [c.tenantId, c.campaignId, i, c.wallet.pass.passTypeIdentifier, PASSES],
      );
    }
    await db.query('VACUUM ANALYZE passes');
    await db.query('CHECKPOINT');
    await db.query(`
      CREATE FUNCTION bench_one_change_lock() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock(${OLD_CHANGE_LOCK_KEY}); RETURN NEW; END $$`);

    // Path i belongs to tenant i % 4, matching headerSets[i % 4].
    const paths: string[] = [];
    for (let p = 1; p <= PASSES; p++) {
      for (const [i, c] of tenants.entries())
        paths.push(`/api/v1/campaigns/${c.campaignId}/passes/lk${i}-${p}`);
    }
    const headerSets = tenants.map((c) => ({ authorization: `Bearer ${c.apiKey}` }));
    const bodies = Array.from({ length: BODIES }, (_, i) =>
      Buffer.from(JSON.stringify({ voucher: { value: `v${i}` } })),
    );

    const setMode = async (mode: Mode) => {
      await db.query('DROP TRIGGER IF EXISTS bench_one_change_lock ON passes');
      if (mode === 'one lock') {
        await db.query(
          `CREATE TRIGGER bench_one_change_lock BEFORE UPDATE ON passes FOR EACH ROW EXECUTE FUNCTION bench_one_change_lock()`,
        );
      }
    };
    const run = async (mode: Mode, seconds: number): Promise<Measurement> => {
      await setMode(mode);
      const m = await measure(app, {
        origin: app.url,
        method: 'PATCH',
        paths,
        bodies,
        headers: { 'content-type': 'application/json' },
        headerSets,
        concurrency: CLIENTS,
        seconds,
      });
      assertHealthy(`${mode} run`, m);
      return m;
    };

    console.log(
      `${TENANTS} tenants × ${PASSES} passes, ${CLIENTS} concurrent PATCHes, ${SECONDS} s per phase; ${machineNote()}`,
    );
    await run('free', 2); // warm-up: JIT, pools, prepared plans
    const results: Record<Mode, Measurement[]> = { 'one lock': [], free: [] };
    const table = new MarkdownTable([
      'phase',
      'updates/s',
      'p50',
      'p99',
      'app CPU',
      'PostgreSQL CPU',
      'load CPU',
      'load avg',
    ]);
    table.header();
    for (let r = 0; r < RUNS; r++) {
      for (const mode of ['one lock', 'free'] as const) {
        const m = await run(mode, SECONDS);
        results[mode].push(m);
        const lat = summarize(m.load.latenciesMs);
        table.row([
          `${mode} #${r + 1}`,
          fmtRate(m.perSecond),
          fmtMs(lat.p50),
          fmtMs(lat.p99),
          m.appCpuCores.toFixed(2),
          m.postgresCpuCores.toFixed(2),
          m.clientCpuCores.toFixed(2),
          loadAverageNow(),
        ]);
      }
    }
    await setMode('free');
    const median = (ms: Measurement[]) => {
      const v = ms.map((m) => m.perSecond).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)]!;
    };
    const locked = median(results['one lock']);
    const free = median(results.free);
    console.log(
      `median updates/s — one lock: ${fmtRate(locked)}, free: ${fmtRate(free)}, ratio ${(free / locked).toFixed(2)}×`,
    );
    const changed = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM passes WHERE data->'voucher'->>'value' <> '0'`,
    );
    console.log(`passes changed at least once: ${changed.rows[0]!.n} of ${TENANTS * PASSES}`);
  } finally {
    await db.end();
    await app.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
