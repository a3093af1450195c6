/**
 * Load generator, run in a worker thread by `runLoad` (load.ts): `concurrency` request loops over
 * one keep-alive node:http Agent, until the time is up, the request budget is spent, the targets
 * run out (order "once") or too many requests failed. Posts one LoadResult back.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

import type { LoadResult, LoadSpec } from './load';

const spec = workerData as LoadSpec;

interface Outcome {
  status: number;
  bytes: number;
  headers: IncomingHttpHeaders;
  /** The start of the body, kept only for unexpected statuses. */
  sample?: string;
}

function once(
  agent: Agent,
  port: number,
  path: string,
  body: Buffer | undefined,
  extra: Record<string, string> | undefined,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(spec.headers ?? {}), ...(extra ?? {}) };
    if (body) headers['content-length'] = body.length;
    const req = request({ host: '127.0.0.1', port, method: spec.method, path, headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      const keep = status !== spec.expectStatus;
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keep && bytes < 4096) chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({
          status,
          bytes,
          headers: res.headers,
          sample: keep ? Buffer.concat(chunks).toString('utf8').slice(0, 300) : undefined,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(spec.timeoutMs, () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<LoadResult> {
  const port = Number(new URL(spec.origin).port);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const bodies = spec.bodies?.map((b) => Buffer.from(b));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let errors = 0;
  let bytesIn = 0;
  let firstError: string | undefined;
  let stoppedBy: LoadResult['stoppedBy'] = 'time';

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + spec.seconds * 1000;

  const loop = async () => {
    for (;;) {
      if (performance.now() >= deadline) return;
      if (next >= spec.maxRequests) {
        stoppedBy = 'count';
        return;
      }
      if (spec.order === 'once' && next >= spec.paths.length) {
        stoppedBy = 'exhausted';
        return;
      }
      if (errors >= spec.maxErrors) {
        stoppedBy = 'errors';
        return;
      }
      const i = next++;
      const path = spec.paths[i % spec.paths.length]!;
      const body = bodies ? bodies[i % bodies.length] : undefined;
      const t0 = performance.now();
      try {
        const extra = spec.headerSets ? spec.headerSets[i % spec.headerSets.length] : undefined;
        const out = await once(agent, port, path, body, extra);
        const ms = performance.now() - t0;
        statuses[out.status] = (statuses[out.status] ?? 0) + 1;
        bytesIn += out.bytes;
        if (out.status === spec.expectStatus) latencies.push(ms);
        else {
          errors++;
          firstError ??= `${spec.method} ${path.slice(0, 80)} → ${out.status} ${out.sample ?? ''}`;
        }
      } catch (err) {
        errors++;
        statuses.error = (statuses.error ?? 0) + 1;
        firstError ??= `${spec.method} ${path.slice(0, 80)} → ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
  const elapsedSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return {
    ok: latencies.length,
    errors,
    statuses,
    firstError,
    started: next,
    elapsedSeconds,
    latenciesMs: Float64Array.from(latencies),
    bytesIn,
    stoppedBy,
    clientCpuMicros: cpu.user + cpu.system,
  };
}

// A failure rejects unhandled, which ends the worker with an 'error' event that runLoad reports.
void main().then((result) => parentPort!.postMessage(result, [result.latenciesMs.buffer as ArrayBuffer]));
