/**
 * Link generation hot path of `POST /pers/v1/urls`: per-item validation and HS256 signing of
 * 1,000-item batches, without HTTP. Reference row: jsonwebtoken 9 with a precomputed KeyObject.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/link-token.bench.ts
 *
 * BENCH_SECONDS (default 3) sets how long each row runs. PERFORMANCE.md measured the reference row
 * at 135,000/s on a quiet machine; on a busy one compare the × column instead of absolute rates.
 */
import { createSecretKey, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

import { validateLinkRequest, ValidLinkRequest } from '../src/modules/links/link-request.validator';
import { LinkTokenCodec } from '../src/modules/links/link-token';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const REFERENCE = 'jsonwebtoken 9 sign, KeyObject (reference)';
const BATCH = 1000;
const BASE_URL = 'https://wallet.example.com/api/pass/create/';
const TENANT_ID = randomUUID();

const FIRST_NAMES = ['Ada', 'Grace', 'Zoë', 'Linus', 'Margaret', 'José', 'Ngozi', 'Yuki'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Hamilton', 'Torvalds', 'Okonkwo', 'Müller', 'Tanaka'];

/** A batch as the HTTP layer hands it over: freshly parsed JSON, one campaign per 100 items. */
function requestBatch(): unknown[] {
  const campaigns = Array.from({ length: 10 }, () => randomUUID());
  const items = Array.from({ length: BATCH }, (_, i) => {
    const first = FIRST_NAMES[i % FIRST_NAMES.length]!;
    const last = LAST_NAMES[i % LAST_NAMES.length]!;
    return {
      campaignId: campaigns[i % campaigns.length],
      platform: i % 3 === 0 ? 'GOOGLE' : 'APPLE',
      contact: {
        id: randomUUID(),
        firstName: first,
        lastName: last,
        email: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com`,
      },
      voucher: {
        code: `SUMMER-2025-${String(i).padStart(6, '0')}`,
        value: `${5 + (i % 4) * 5}%`,
        title: 'Summer voucher: save on your next order',
      },
    };
  });
  return JSON.parse(JSON.stringify(items)) as unknown[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Row {
  name: string;
  batch: () => unknown;
  latencies: number[];
  seconds: number;
}

/**
 * Runs every row for `seconds` in total, interleaved in ROUNDS slices, so that load from other
 * processes on a shared machine skews all rows alike and the ratios between them stay meaningful.
 * Latencies are per batch of BATCH items.
 */
const ROUNDS = 6;

function measure(rows: Row[], seconds: number): void {
  for (const row of rows) for (let i = 0; i < 20; i++) row.batch();
  const slice = BigInt(Math.round((seconds / ROUNDS) * 1e9));
  for (let round = 0; round < ROUNDS; round++) {
    for (const row of rows) {
      const started = process.hrtime.bigint();
      const deadline = started + slice;
      let now = started;
      while (now < deadline) {
        const t0 = now;
        row.batch();
        now = process.hrtime.bigint();
        row.latencies.push(Number(now - t0) / 1e6);
      }
      row.seconds += Number(now - started) / 1e9;
    }
  }
}

function main(): void {
  const codec = new LinkTokenCodec([
    { kid: 'k2025', secret: Buffer.from('bench-secret-bench-secret-bench-secret-1', 'utf8') },
    { kid: 'k2024', secret: Buffer.from('bench-secret-bench-secret-bench-secret-0', 'utf8') },
  ]);
  const items = requestBatch();
  const valid: ValidLinkRequest[] = items.map((item, i) => {
    const result = validateLinkRequest(item, i);
    if (!result.ok) throw new Error(result.error.message);
    return result.value;
  });
  const claimsOf = (v: ValidLinkRequest) => ({ tenantId: TENANT_ID, ...v });

  const validateAndSign = () => {
    const urls = new Array<string>(BATCH);
    for (let i = 0; i < BATCH; i++) {
      const result = validateLinkRequest(items[i], i);
      urls[i] = result.ok ? BASE_URL + codec.sign(claimsOf(result.value)) : '';
    }
    return urls;
  };
  const signOnly = () => {
    const tokens = new Array<string>(BATCH);
    for (let i = 0; i < BATCH; i++) tokens[i] = codec.sign(claimsOf(valid[i]!));
    return tokens;
  };
  const validateOnly = () => {
    let ok = 0;
    for (let i = 0; i < BATCH; i++) if (validateLinkRequest(items[i], i).ok) ok++;
    return ok;
  };
  const tokens = signOnly();
  const verifyOnly = () => {
    for (let i = 0; i < BATCH; i++) codec.verify(tokens[i]!);
  };
  const keyObject = createSecretKey(Buffer.from('bench-secret-bench-secret-bench-secret-1', 'utf8'));
  const jsonwebtokenSign = () => {
    for (let i = 0; i < BATCH; i++) {
      const v = valid[i]!;
      jwt.sign(
        { t: TENANT_ID, c: v.campaignId, p: v.platform === 'APPLE' ? 'A' : 'G', ct: v.contact, v: v.voucher },
        keyObject,
        { algorithm: 'HS256', keyid: 'k2025' },
      );
    }
  };

  const sampleUrl = validateAndSign()[1]!;
  console.log(
    `${BATCH}-item batches, ${SECONDS} s per row in ${ROUNDS} interleaved rounds; typical link ${sampleUrl.length} chars; Node ${process.version}`,
  );
  console.log('| path | tokens/s | × jsonwebtoken | p50 ms/batch | p99 ms/batch | batches |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const rows: Row[] = [
    ['validate + sign (URL)', validateAndSign],
    ['sign only', signOnly],
    ['validate only', validateOnly],
    ['verify', verifyOnly],
    [REFERENCE, jsonwebtokenSign],
  ].map(([name, batch]) => ({ name, batch, latencies: [], seconds: 0 }) as Row);
  measure(rows, SECONDS);

  const perSecond = (row: Row) => (row.latencies.length * BATCH) / row.seconds;
  const reference = perSecond(rows.find((row) => row.name === REFERENCE)!);
  for (const row of rows) {
    const sorted = [...row.latencies].sort((a, b) => a - b);
    console.log(
      `| ${row.name} | ${perSecond(row).toFixed(0)} | ${(perSecond(row) / reference).toFixed(2)} | ` +
        `${percentile(sorted, 50).toFixed(3)} | ${percentile(sorted, 99).toFixed(3)} | ${sorted.length} |`,
    );
  }
}

main();
