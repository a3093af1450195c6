/**
 * Runs every `bench/*.bench.ts` in turn, each in its own process, streaming its output; keeps going
 * past a failing one and exits non-zero at the end if any failed.
 *
 *   npm run bench                  # all of them
 *   npm run bench -- links         # only files whose name contains "links" (several words: any)
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TS_HOOK } from './lib/ts-hook';

const BENCH_DIR = __dirname;
const SUFFIX = '.bench.ts';
const SETTLE_MS = 10_000;

interface Outcome {
  file: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
}

function runOne(file: string): Promise<Outcome> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', TS_HOOK, join(BENCH_DIR, file)], {
      stdio: 'inherit',
    });
    // Ctrl-C reaches the benchmark through the process group already; SIGTERM is passed on.
    const forward = () => child.kill('SIGTERM');
    process.on('SIGTERM', forward);
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      process.off('SIGTERM', forward);
      resolve({ file, code, signal, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    };
    child.once('error', (err) => {
      console.error(`could not start ${file}: ${err.message}`);
      done(null, null);
    });
    child.once('exit', done);
  });
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2).filter((a) => a.length > 0);
  const all = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .sort();
  const selected = filters.length === 0 ? all : all.filter((f) => filters.some((w) => f.includes(w)));
  if (selected.length === 0) {
    console.error(`no benchmark matches ${filters.join(', ')}; available: ${all.join(', ')}`);
    return 2;
  }

  const outcomes: Outcome[] = [];
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
  };
  process.on('SIGINT', onInterrupt);
  for (const [i, file] of selected.entries()) {
    if (interrupted) break;
    // The two cores are shared by everything: let the previous benchmark's leftovers (a dropped
    // database's checkpoint, autovacuum) settle before the next one measures.
    if (i > 0) await new Promise((r) => setTimeout(r, SETTLE_MS));
    console.log(`\n# ${file}\n`);
    outcomes.push(await runOne(file));
  }
  process.off('SIGINT', onInterrupt);

  console.log('\n| benchmark | result | seconds |\n| --- | --- | --- |');
  for (const o of outcomes) {
    const result = o.code === 0 ? 'ok' : o.signal ? `killed (${o.signal})` : `FAILED (exit ${o.code ?? '?'})`;
    console.log(`| ${o.file} | ${result} | ${o.seconds.toFixed(0)} |`);
  }
  const failed = outcomes.filter((o) => o.code !== 0);
  if (interrupted) console.log('interrupted: the remaining benchmarks did not run');
  return failed.length > 0 || interrupted ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
