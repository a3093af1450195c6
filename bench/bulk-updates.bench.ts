/**
 * A bulk pass update of 100,000 rows on a campaign with 100,000 passes, each with one registered
 * device: one API process (bench-app.ts, ROLE=api), one worker process (the built service,
 * ROLE=worker) and a fake APNs in its own process. The CSV (`voucher.code,voucher.balance`) is
 * streamed to `POST /api/v1/campaigns/:id/passes/bulk-updates`; the clock runs from the first byte
 * of the upload until the update is DONE (rows) and until the fake APNs has accepted a push for
 * every device (pushes).
 *
 *   node -r ./bench/lib/register-ts.cjs bench/bulk-updates.bench.ts [rows]
 *
 * Prints rows/s, pushes/s and the peak RSS of the API and of the worker. Target: everything within
 * 60 s for 100,000 rows.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ApnsConnection } from '../src/integrations/apns/apns-connection';
import { sharedPki } from '../test/support/fixtures';
import { createBenchCampaign, startBenchApp } from './lib/bench-app';
import { startFakeApnsProcess } from './lib/fake-apns-process';
import { processMemoryMb, startWorkerProcess, stopProcess } from './lib/worker-process';

const ROWS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 100_000);
const LIMIT_S = 60;

async function main(): Promise<number> {
  const root = join(__dirname, '..');
  execSync('npm run build', { cwd: root, stdio: 'ignore' });
  const pki = sharedPki();
  const apns = await startFakeApnsProcess(pki);
  const caFile = join(mkdtempSync(join(tmpdir(), 'bench-ca-')), 'ca.pem');
  writeFileSync(caFile, pki.root.certPem);
  const app = await startBenchApp({
    name: 'bulk',
    env: {
      APNS_URL: apns.url,
      APNS_CA_FILE: caFile,
      OUTBOX_POLL_MS: '100',
      // Outbox job ids restart with each fresh database: a queue prefix of its own per run keeps a
      // previous run's finished jobs (kept for a day) from swallowing this run's.
      QUEUE_PREFIX: `wb-bulk-${Date.now()}`,
      // A large upload takes longer than the default whole-request timeout (30 s) on a busy machine.
      HTTP_REQUEST_TIMEOUT_MS: '600000',
    },
  });
  let worker: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
  const db = new Client({ connectionString: app.databaseUrl });
  try {
    const { tenantId, apiKey, wallet, campaignId } = await createBenchCampaign(app);
    await db.connect();
    const seedStart = Date.now();
    await db.query(
      `INSERT INTO passes (tenant_id, campaign_id, identity, serial_number, authentication_token, pass_type_identifier, data, apple_issued_at)
       SELECT $1, $2, 'v:B' || g, md5('s' || g), md5('a' || g) || md5('b' || g), $3,
              jsonb_build_object('contact', jsonb_build_object('id', 'c' || g), 'voucher', jsonb_build_object('code', 'B' || g, 'balance', 0)), now()
         FROM generate_series(1, $4) g`,
      [tenantId, campaignId, wallet.pass.passTypeIdentifier, ROWS],
    );
    await db.query(
      `INSERT INTO devices (device_library_identifier) SELECT md5('d' || g) FROM generate_series(1, $1) g`,
      [ROWS],
    );
    await db.query(
      `INSERT INTO registrations (device_id, pass_id, tenant_id, push_token)
       SELECT d.id, p.id, p.tenant_id, md5('t' || d.n) || md5('u' || d.n)
         FROM (SELECT id, device_library_identifier, row_number() OVER (ORDER BY device_library_identifier) AS n FROM devices) d
         JOIN (SELECT id, tenant_id, row_number() OVER (ORDER BY id) AS n FROM passes WHERE campaign_id = $1) p ON p.n = d.n`,
      [campaignId],
    );
    await db.query('VACUUM ANALYZE');
    await db.query('CHECKPOINT');
    console.log(
      `seeded ${ROWS} passes with one device each in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`,
    );

    // Apple's servers are never cold: warm the fake's JIT and TLS up first.
    const warm = new ApnsConnection({
      url: apns.url,
      certificatePem: wallet.pass.certificatePem,
      privateKeyPem: wallet.pass.privateKeyPem,
      caPem: pki.root.certPem,
    });
    await Promise.all(
      Array.from({ length: 20_000 }, (_, i) =>
        warm.send(i.toString(16).padStart(64, '0'), wallet.pass.passTypeIdentifier),
      ),
    );
    await warm.close();

    worker = await startWorkerProcess(
      root,
      { ...app.env, ROLE: 'worker', NODE_ENV: 'production' },
      /bulk update applied/,
    );
    const apnsBefore = await apns.count();
    const apiBefore = await app.stats();

    let i = 0;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        let chunk = i === 0 ? 'voucher.code,voucher.balance\n' : '';
        for (let k = 0; k < 5000 && i < ROWS; k++, i++) chunk += `B${i + 1},${(i * 7) % 1000}\n`;
        controller.enqueue(encoder.encode(chunk));
        if (i >= ROWS) controller.close();
      },
    });
    const started = Date.now();
    const res = await fetch(`${app.url}/api/v1/campaigns/${campaignId}/passes/bulk-updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
      body,
      duplex: 'half',
    });
    const accepted = (await res.json()) as { id: string };
    if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(accepted)}`);
    const uploadSeconds = (Date.now() - started) / 1000;

    let progress = { status: 'QUEUED', total: 0, applied: 0, failed: 0 };
    let doneSeconds = NaN;
    let pushes = 0;
    let pushSeconds = NaN;
    let peakWorkerSampled = 0;
    while (Date.now() - started < 180_000) {
      await new Promise((r) => setTimeout(r, 100));
      peakWorkerSampled = Math.max(peakWorkerSampled, processMemoryMb(worker.pid!, 'VmRSS'));
      if (Number.isNaN(doneSeconds)) {
        progress = (
          await app.request('GET', `/api/v1/campaigns/${campaignId}/passes/bulk-updates/${accepted.id}`, {
            token: apiKey,
          })
        ).body as typeof progress;
        if (progress.status === 'DONE' || progress.status === 'FAILED')
          doneSeconds = (Date.now() - started) / 1000;
      }
      pushes = (await apns.count()) - apnsBefore;
      if (pushes >= ROWS && Number.isNaN(pushSeconds)) pushSeconds = (Date.now() - started) / 1000;
      if (!Number.isNaN(doneSeconds) && !Number.isNaN(pushSeconds)) break;
    }
    const apiAfter = await app.stats();
    const workerHwm = processMemoryMb(worker.pid!, 'VmHWM');
    const changed = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM passes WHERE campaign_id = $1
          AND (data->'voucher'->>'balance')::int = ((substr(identity, 4)::int - 1) * 7) % 1000`,
      [campaignId],
    );
    const ok =
      progress.status === 'DONE' &&
      progress.applied === ROWS &&
      changed.rows[0]!.n === ROWS &&
      pushes >= ROWS &&
      pushSeconds <= LIMIT_S;
    console.log(
      '| rows | upload received | rows applied (DONE) | rows/s | all pushes accepted | pushes/s | API peak RSS | worker peak RSS | within 60 s |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    console.log(
      `| ${ROWS} | ${uploadSeconds.toFixed(1)} s | ${doneSeconds.toFixed(1)} s (${progress.status}, applied ${progress.applied}, failed ${progress.failed}, verified ${changed.rows[0]!.n}) | ${Math.round(ROWS / doneSeconds)} | ${pushSeconds.toFixed(1)} s (${pushes} pushes) | ${Math.round(pushes / pushSeconds)} | ${(apiAfter.maxRssBytes / 1048576).toFixed(0)} MB (${(apiBefore.rssBytes / 1048576).toFixed(0)} MB before) | ${workerHwm.toFixed(0)} MB (sampled ${peakWorkerSampled.toFixed(0)} MB) | ${ok ? 'yes' : 'NO'} |`,
    );
    console.log(
      `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores shared by API, worker, fake APNs, PostgreSQL, Redis)`,
    );
    return ok ? 0 : 1;
  } finally {
    if (worker) await stopProcess(worker);
    await db.end().catch(() => undefined);
    await app.stop();
    await apns.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
