/**
 * HTTP load from a worker thread (load-worker.ts), so the load generator never runs on the event
 * loop of the process it measures (the app runs in its own child process, see bench-app.ts). Only
 * 127.0.0.1, keep-alive, bounded in time, request count and errors.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { AppProcessStats } from './app-server';
import type { BenchApp } from './bench-app';
import { postgresCpuByPid, postgresCpuDelta } from './proc';
import { TS_HOOK } from './ts-hook';

export interface LoadSpec {
  /** `http://127.0.0.1:<port>`; any other host is refused. */
  origin: string;
  method: 'GET' | 'POST' | 'PATCH';
  /** Request i goes to paths[i % paths.length] (order "cycle") or paths[i] (order "once"). */
  paths: string[];
  /** Request i sends bodies[i % bodies.length], when given. */
  bodies?: Buffer[];
  headers?: Record<string, string>;
  /** Request i also sends headerSets[i % headerSets.length] (e.g. one API key per tenant), when given. */
  headerSets?: Record<string, string>[];
  order: 'cycle' | 'once';
  /** Concurrent request loops, one keep-alive socket each. */
  concurrency: number;
  seconds: number;
  /** Upper bound on requests started. */
  maxRequests: number;
  /** The run stops after this many failed requests. */
  maxErrors: number;
  /** The status a request must answer to count (others count as errors). */
  expectStatus: number;
  timeoutMs: number;
}

export interface LoadResult {
  /** Requests that answered expectStatus. */
  ok: number;
  errors: number;
  /** Status code (or "error") → count. */
  statuses: Record<string, number>;
  firstError?: string;
  /** Requests started: with order "once", paths[0 … started-1] were used. */
  started: number;
  elapsedSeconds: number;
  /** Latency of every successful request, ms, request start to last body byte. */
  latenciesMs: Float64Array;
  bytesIn: number;
  stoppedBy: 'time' | 'count' | 'exhausted' | 'errors';
  /** CPU of the load generator's process while it ran (it is otherwise idle), µs. */
  clientCpuMicros: number;
}

export type LoadOptions = Omit<
  LoadSpec,
  'order' | 'maxRequests' | 'maxErrors' | 'expectStatus' | 'timeoutMs'
> &
  Partial<Pick<LoadSpec, 'order' | 'maxRequests' | 'maxErrors' | 'expectStatus' | 'timeoutMs'>>;

const WORKER_FILE = join(__dirname, 'load-worker.ts');

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const spec: LoadSpec = {
    order: 'cycle',
    maxRequests: 10_000_000,
    maxErrors: 100,
    expectStatus: 200,
    timeoutMs: 30_000,
    ...options,
  };
  const origin = new URL(spec.origin);
  if (origin.hostname !== '127.0.0.1' || origin.protocol !== 'http:') {
    return Promise.reject(new Error(`load goes only to http://127.0.0.1, not ${spec.origin}`));
  }
  if (spec.paths.length === 0) return Promise.reject(new Error('no request paths'));
  if (spec.seconds <= 0 || spec.seconds > 600)
    return Promise.reject(new Error('seconds must be in (0, 600]'));

  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_FILE, {
      workerData: spec,
      execArgv: ['-r', TS_HOOK],
    });
    let result: LoadResult | undefined;
    worker.once('message', (msg: LoadResult) => {
      result = msg;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load worker exited with code ${code} and no result`));
    });
  });
}

export interface Measurement {
  load: LoadResult;
  /** Successful requests per second. */
  perSecond: number;
  /** App process CPU over the run, in cores (1 = one core fully busy). */
  appCpuCores: number;
  /** The app's main (event loop) thread alone, in cores; the rest is the libuv pool and V8 helpers. */
  appMainThreadCores: number;
  /** PostgreSQL backends serving the app's database, in cores (NaN when not measurable). */
  postgresCpuCores: number;
  /** Load generator CPU over the run, in cores. */
  clientCpuCores: number;
  appBefore: AppProcessStats;
  appAfter: AppProcessStats;
}

/** Runs the load and samples the app process's CPU and memory around it. */
export async function measure(app: BenchApp, options: LoadOptions): Promise<Measurement> {
  const pgBefore = await postgresCpuByPid(app.dbName).catch(() => new Map<number, number>([[0, NaN]]));
  const appBefore = await app.stats();
  const load = await runLoad(options);
  const appAfter = await app.stats();
  const pgAfter = await postgresCpuByPid(app.dbName).catch(() => new Map<number, number>([[0, NaN]]));
  const wall = load.elapsedSeconds;
  return {
    load,
    perSecond: load.ok / wall,
    appCpuCores: (appAfter.cpuMicros - appBefore.cpuMicros) / 1e6 / wall,
    appMainThreadCores: (appAfter.mainThreadCpuMicros - appBefore.mainThreadCpuMicros) / 1e6 / wall,
    postgresCpuCores: postgresCpuDelta(pgBefore, pgAfter) / 1e6 / wall,
    clientCpuCores: load.clientCpuMicros / 1e6 / wall,
    appBefore,
    appAfter,
  };
}

/** Throws when a run had failures: benchmarks assert nothing beyond sane answers. */
export function assertHealthy(label: string, m: Measurement): void {
  const { load } = m;
  if (load.errors > 0 || load.ok === 0) {
    throw new Error(
      `${label}: ${load.ok} ok, ${load.errors} failed (${JSON.stringify(load.statuses)}); first: ${load.firstError ?? 'none'}`,
    );
  }
}
