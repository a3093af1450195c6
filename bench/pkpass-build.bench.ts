/**
 * Apple pass bundle build: the native builder (node:crypto CMS + own ZIP writer) against passkit-generator
 * on the same pass.json, ~110 KB of incompressible PNG artwork and the same test certificates.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/pkpass-build.bench.ts
 */
import { randomBytes, sign } from 'node:crypto';
import { PKPass } from 'passkit-generator';

import { encodePng } from '../src/common/png';
import { buildPassJson } from '../src/integrations/pkpass/pass-json.mapper';
import { PassSigningMaterial } from '../src/integrations/pkpass/pass-signing-material';
import { buildPkpass } from '../src/integrations/pkpass/pkpass-builder';
import { createTestPki } from '../test/support/certs';

const NATIVE_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PASSKIT_SECONDS = Math.min(3, NATIVE_SECONDS);

/**
 * Artwork that behaves like photos in a zip: the top 11% of rows are random pixels (incompressible),
 * the rest a vertical gradient. Six images total ~110 KB.
 */
function noisyPng(width: number, height: number): Buffer {
  const rgba = new Uint8Array(width * height * 4);
  const noise = randomBytes(width * height * 3);
  const noisyRows = Math.round(height * 0.11);
  for (let p = 0; p < width * height; p++) {
    const y = Math.floor(p / width);
    const noisy = y < noisyRows;
    rgba[p * 4] = noisy ? noise[p * 3]! : 40;
    rgba[p * 4 + 1] = noisy ? noise[p * 3 + 1]! : Math.floor((y * 255) / height);
    rgba[p * 4 + 2] = noisy ? noise[p * 3 + 2]! : 128;
    rgba[p * 4 + 3] = 255;
  }
  return encodePng(width, height, rgba);
}

function artwork(): Record<string, Buffer> {
  return {
    'icon.png': noisyPng(29, 29),
    'icon@2x.png': noisyPng(58, 58),
    'logo.png': noisyPng(160, 50),
    'logo@2x.png': noisyPng(320, 100),
    'strip.png': noisyPng(375, 123),
    'strip@2x.png': noisyPng(750, 246),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs `once` from `inFlight` loops for `seconds`; latency is per pass, queueing included. */
async function measure(seconds: number, inFlight: number, once: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 50; i++) await once(i);
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let next = 0;
  const loop = async () => {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      await once(next++);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  return {
    /** Process CPU (user + system, all threads) per pass: less sensitive to other load than wall time. */
    cpuMicros: (cpu.user + cpu.system) / latencies.length,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    count: latencies.length,
  };
}

async function main(): Promise<void> {
  const pki = createTestPki();
  try {
    const cert = pki.issuePassCertificate();
    const material = new PassSigningMaterial({
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
      wwdrCertificatePem: pki.wwdr.certPem,
    });
    const files = artwork();
    const artworkBytes = Object.values(files).reduce((sum, b) => sum + b.length, 0);

    const passJsonFor = (i: number) =>
      buildPassJson({
        style: 'storeCard',
        passTypeIdentifier: cert.passTypeIdentifier,
        teamIdentifier: cert.teamIdentifier,
        serialNumber: `bench-${i}`,
        authenticationToken: 'a'.repeat(32),
        webServiceURL: 'https://wallet.example.com/apple',
        template: {
          organizationName: 'Example Coffee',
          description: 'Example Coffee loyalty card',
          logoText: 'Example Coffee',
          backgroundColor: '#1f2937',
          foregroundColor: '#ffffff',
          labelColor: '#9ca3af',
          headerFields: [
            { key: 'points', label: 'Points', value: '1250', changeMessage: 'You now have %@ points' },
          ],
          primaryFields: [{ key: 'name', label: 'Member', value: 'Ada Lovelace' }],
          secondaryFields: [{ key: 'tier', label: 'Tier', value: 'Gold' }],
          auxiliaryFields: [{ key: 'since', label: 'Member since', value: '2021' }],
          backFields: [
            { key: 'terms', label: 'Terms', value: 'Points expire after 12 months of inactivity.' },
          ],
          barcode: { format: 'QR', message: `MEMBER-${i}-7F3A9C`, altText: `MEMBER-${i}` },
        },
      });

    // The floor: one bare RSA-2048 signature per pass, same key, same thread. Printed so that runs
    // on a busy or slower machine can be compared by ratio.
    const bareSign = await measure(1, 1, async () =>
      sign('sha256', Buffer.from('manifest'), material.privateKey),
    );
    const build = (i: number) => buildPkpass({ passJson: passJsonFor(i), files, signing: material });
    const native = await measure(NATIVE_SECONDS, 1, build);
    // Requests overlap in a server; the RSA step then runs on the libuv pool, one core each.
    const nativeConcurrent = await measure(NATIVE_SECONDS, 8, build);
    const sample = await buildPkpass({ passJson: passJsonFor(0), files, signing: material });

    const certificates = {
      wwdr: pki.wwdr.certPem,
      signerCert: cert.certificatePem,
      signerKey: cert.privateKeyPem,
    };
    const passkit = await measure(PASSKIT_SECONDS, 1, async (i) => {
      const pass = new PKPass(
        { ...files, 'pass.json': Buffer.from(JSON.stringify(passJsonFor(i))) },
        certificates,
      );
      return pass.getAsBuffer();
    });

    const row = (name: string, r: typeof native) =>
      `| ${name} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpuMicros.toFixed(0)} | ${r.count} |`;
    console.log(
      `artwork ${(artworkBytes / 1024).toFixed(1)} KiB in ${Object.keys(files).length} PNGs; ` +
        `pkpass ${(sample.length / 1024).toFixed(1)} KiB; RSA-2048, ${material.digestAlgorithm}; Node ${process.version}`,
    );
    console.log('| pkpass build | passes/s | p50 ms | p99 ms | CPU µs/pass | passes |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(row('native (node:crypto CMS, own ZIP), 1 in flight', native));
    console.log(row('native (node:crypto CMS, own ZIP), 8 in flight', nativeConcurrent));
    console.log(row('passkit-generator 3.6, 1 in flight', passkit));
    console.log(row('(bare crypto.sign RSA-2048, for scale)', bareSign));
    console.log(
      `native/passkit-generator: ${(native.perSecond / passkit.perSecond).toFixed(1)}×; ` +
        `native/bare sign: ${((100 * native.perSecond) / bareSign.perSecond).toFixed(0)}%`,
    );
  } finally {
    pki.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
