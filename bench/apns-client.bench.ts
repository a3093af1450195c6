/**
 * Push fan-out through one ApnsConnection against the fake APNs (maxConcurrentStreams 500).
 * The fake runs in a child process so the numbers below are the client's own CPU and memory.
 *
 *   node -r ./bench/lib/register-ts.cjs bench/apns-client.bench.ts [pushes]
 *
 * Two phases over the same connection:
 * - windowed: at most WINDOW pushes outstanding (a worker feeding the connection as it drains);
 *   latency = send() call to settled promise.
 * - burst: every push handed to send() at once (the whole fan-out queued inside the client);
 *   shows throughput and memory with the full queue.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ApnsConnection } from '../src/integrations/apns/apns-connection';
import { createTestPki } from '../test/support/certs';
import { startFakeApns, type FakeApns } from '../test/support/fake-apns';
import { TS_HOOK } from './lib/ts-hook';

const ROLE_FLAG = '--fake-apns-child';
const SERVER_STREAMS = 500;
const WINDOW = 1000;
const WARMUP = 5000;

interface StartMessage {
  type: 'start';
  certPem: string;
  keyPem: string;
  caPem: string[];
}
interface ChildReply {
  type: 'ready' | 'stats';
  port?: number;
  count?: number;
  maxConcurrency?: number;
  cpuMs?: number;
}

if (process.argv.includes(ROLE_FLAG)) {
  runFakeChild();
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

function runFakeChild(): void {
  let fake: FakeApns | undefined;
  process.on('message', (msg: StartMessage | { type: 'stats' } | { type: 'stop' }) => {
    if (msg.type === 'start') {
      void startFakeApns({
        certPem: msg.certPem,
        keyPem: msg.keyPem,
        caPem: msg.caPem,
        maxConcurrentStreams: SERVER_STREAMS,
        recordPushes: false,
      }).then((started) => {
        fake = started;
        process.send?.({ type: 'ready', port: started.port } satisfies ChildReply);
      });
    } else if (msg.type === 'stats') {
      process.send?.({
        type: 'stats',
        count: fake?.count,
        maxConcurrency: fake?.maxObservedConcurrency,
        cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      } satisfies ChildReply);
    } else {
      void (fake?.close() ?? Promise.resolve()).then(() => process.exit(0));
    }
  });
}

function request(child: ChildProcess, msg: object, want: ChildReply['type']): Promise<ChildReply> {
  return new Promise((resolve) => {
    const onMessage = (reply: ChildReply) => {
      if (reply.type !== want) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(msg);
  });
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 100_000);
  const pki = createTestPki();
  const server = pki.issueServerCertificate(['localhost', '127.0.0.1']);
  const pass = pki.issuePassCertificate();
  const child = fork(__filename, [ROLE_FLAG], { execArgv: ['-r', TS_HOOK], stdio: 'inherit' });
  try {
    const ready = await request(
      child,
      {
        type: 'start',
        certPem: server.certPem,
        keyPem: server.keyPem,
        caPem: [pki.wwdr.certPem, pki.root.certPem],
      } satisfies StartMessage,
      'ready',
    );
    const connection = new ApnsConnection({
      url: `https://127.0.0.1:${ready.port}`,
      certificatePem: pass.certificatePem,
      privateKeyPem: pass.privateKeyPem,
      caPem: pki.root.certPem,
    });
    const tokens = Array.from({ length: 1000 }, (_, i) => i.toString(16).padStart(64, 'a'));
    const topic = pass.passTypeIdentifier;

    await windowed(connection, tokens, topic, WARMUP);
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 50);

    const w = await windowed(connection, tokens, topic, total);
    report(`windowed (${WINDOW} outstanding)`, total, w, peakRss);
    peakRss = process.memoryUsage.rss();

    const b = await burst(connection, tokens, topic, total);
    report('burst (all queued at once)', total, b, peakRss);

    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const server_ = await request(child, { type: 'stats' }, 'stats');
    console.log(
      `server saw ${server_.count} pushes, ` +
        `max ${server_.maxConcurrency} concurrent streams, server CPU ${server_.cpuMs} ms; client stats ${JSON.stringify(connection.stats)}`,
    );
    await connection.close();
  } finally {
    child.send({ type: 'stop' });
    pki.cleanup();
  }
}

interface RunResult {
  ms: number;
  cpuMs: number;
  ok: number;
  latencies: Float64Array;
}

async function windowed(
  connection: ApnsConnection,
  tokens: string[],
  topic: string,
  total: number,
): Promise<RunResult> {
  const latencies = new Float64Array(total);
  let next = 0;
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async () => {
    while (next < total) {
      const i = next++;
      const start = performance.now();
      const res = await connection.send(tokens[i % tokens.length]!, topic);
      latencies[i] = performance.now() - start;
      if (res.status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return finish(t0, cpu0, ok, latencies);
}

async function burst(
  connection: ApnsConnection,
  tokens: string[],
  topic: string,
  total: number,
): Promise<RunResult> {
  const latencies = new Float64Array(total);
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const all: Promise<void>[] = new Array<Promise<void>>(total);
  for (let i = 0; i < total; i++) {
    all[i] = connection.send(tokens[i % tokens.length]!, topic).then((res) => {
      latencies[i] = performance.now() - t0;
      if (res.status === 200) ok++;
    });
  }
  await Promise.all(all);
  return finish(t0, cpu0, ok, latencies);
}

function finish(t0: number, cpu0: NodeJS.CpuUsage, ok: number, latencies: Float64Array): RunResult {
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ok, latencies };
}

function report(label: string, total: number, r: RunResult, peakRss: number): void {
  const sorted = Float64Array.from(r.latencies).sort();
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(2);
  console.log(
    `${label}: ${total} pushes in ${(r.ms / 1000).toFixed(2)} s = ${Math.round((total / r.ms) * 1000)} pushes/s; ` +
      `ok ${r.ok}; latency p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms; ` +
      `client CPU ${((r.cpuMs * 1000) / total).toFixed(1)} µs/push; peak RSS ${(Math.max(peakRss, process.memoryUsage.rss()) / 1048576).toFixed(0)} MB`,
  );
}
