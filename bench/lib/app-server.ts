/**
 * Child-process entry that runs the real API app for a benchmark, so that its CPU and memory are
 * its own and the load generator never shares its event loop. Started by `startBenchApp`
 * (bench-app.ts) with `fork`; speaks over the IPC channel:
 *
 *   parent → { type: 'start', env }   child → { type: 'ready', port } | { type: 'failed', message }
 *   parent → { type: 'stats' }        child → { type: 'stats', ...AppProcessStats }
 *   parent → { type: 'profile-start' }       child starts the V8 CPU profiler (node:inspector)
 *   parent → { type: 'profile-stop', path }  child writes the .cpuprofile → { type: 'profile-saved', path }
 *   parent → { type: 'stop' }         child closes the app and exits
 */
import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

import { createApiApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';
import { mainThreadCpuMicros } from './proc';

export interface AppProcessStats {
  /** User + system CPU of the whole process (all threads, libuv pool included), microseconds. */
  cpuMicros: number;
  /** CPU of the main (event loop) thread alone, microseconds (NaN without Linux /proc). */
  mainThreadCpuMicros: number;
  rssBytes: number;
  /** Peak resident set size of the process so far, bytes. */
  maxRssBytes: number;
  heapUsedBytes: number;
}

export type ParentMessage =
  | { type: 'start'; env: Record<string, string> }
  | { type: 'stats' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string }
  | { type: 'stop' };

export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string }
  | ({ type: 'stats' } & AppProcessStats)
  | { type: 'profile-started' }
  | { type: 'profile-saved'; path: string; error?: string };

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

export function currentStats(): AppProcessStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuMicros: cpu.user + cpu.system,
    mainThreadCpuMicros: mainThreadCpuMicros(),
    rssBytes: mem.rss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: mem.heapUsed,
  };
}

let app: NestFastifyApplication | undefined;

async function start(env: Record<string, string>): Promise<void> {
  try {
    app = await createApiApp(loadConfig(env));
    // Ctrl-C reaches this process too (same process group); the parent drives the shutdown (stop
    // message, or the IPC channel closing), so Nest's own signal handlers would only close twice.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => void stop());
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    if (typeof address !== 'object' || !address) throw new Error('the app has no TCP address');
    send({ type: 'ready', port: address.port });
  } catch (err) {
    send({ type: 'failed', message: (err as Error).stack ?? String(err) });
    process.exit(1);
  }
}

let session: Session | undefined;

function post(method: string, params?: object): Promise<any> {
  return new Promise((resolve, reject) => {
    session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Profiles only the measured window, not the boot (compiling TypeScript) or the fixtures. */
async function profileStart(): Promise<void> {
  session = new Session();
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  send({ type: 'profile-started' });
}

async function profileStop(path: string): Promise<void> {
  try {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(path, JSON.stringify(profile));
    send({ type: 'profile-saved', path });
  } catch (err) {
    send({ type: 'profile-saved', path, error: String(err) });
  } finally {
    session?.disconnect();
    session = undefined;
  }
}

let stopping: Promise<void> | undefined;

function stop(): Promise<void> {
  stopping ??= (async () => {
    try {
      await app?.close();
    } finally {
      process.exit(0);
    }
  })();
  return stopping;
}

process.on('message', (msg: ParentMessage) => {
  switch (msg.type) {
    case 'start':
      void start(msg.env);
      break;
    case 'stats':
      send({ type: 'stats', ...currentStats() });
      break;
    case 'profile-start':
      void profileStart();
      break;
    case 'profile-stop':
      void profileStop(msg.path);
      break;
    case 'stop':
      void stop();
      break;
  }
});

// The parent went away (crashed, killed): do not linger holding the port and database connections.
process.on('disconnect', () => void stop());
