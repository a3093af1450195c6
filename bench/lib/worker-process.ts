/**
 * A `ROLE=worker` process of the built service (`dist/src/main.js`; build first), for benchmarks
 * that measure the worker on its own: its CPU and peak RSS are read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Warnings and errors of the worker are echoed, and lines matching `echo`. */
export async function startWorkerProcess(
  root: string,
  env: Record<string, string>,
  echo?: RegExp,
): Promise<ChildProcess> {
  const worker = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
    env: { ...env, ROLE: 'worker', LOG_LEVEL: 'info', PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started`)));
    worker.stdout.on('data', (c: Buffer) => {
      const text = c.toString();
      for (const line of text.split('\n'))
        if (/"level":"(warn|error|fatal)"/.test(line) || echo?.test(line))
          process.stdout.write(`[worker] ${line.slice(0, 400)}\n`);
    });
    worker.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('worker started')) resolve();
    });
  });
  return worker;
}

/** VmHWM (peak) or VmRSS (now) of a process, MB. */
export function processMemoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
