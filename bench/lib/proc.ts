/**
 * CPU time of threads and processes from Linux /proc, for splitting an app's CPU into its main
 * thread and the rest (libuv pool, V8 helpers) and for counting the PostgreSQL backends' share.
 * Everything answers NaN where /proc is missing or unreadable (another OS, a remote database).
 */
import { readFileSync } from 'node:fs';

import { withAdmin } from '../../test/support/db';

/** Clock ticks per second of /proc/.../stat times: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** utime + stime of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat, microseconds; NaN if unreadable. */
export function statCpuMicros(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ") ".
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** CPU of this process's main thread so far, microseconds. */
export function mainThreadCpuMicros(): number {
  return statCpuMicros(`/proc/self/task/${process.pid}/stat`);
}

export interface BackendFilter {
  /** Only connections' backends (no autovacuum workers). */
  clientBackendsOnly?: boolean;
  /** Backends not to count (e.g. the benchmark's own connection). */
  excludePids?: number[];
}

/** Backend process ids of PostgreSQL connections to `dbName`. */
export async function postgresBackendPids(dbName: string, filter: BackendFilter = {}): Promise<number[]> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 AND ($2::boolean IS NOT TRUE OR backend_type = 'client backend')
          AND pid <> ALL($3::int[])`,
      [dbName, filter.clientBackendsOnly ?? false, filter.excludePids ?? []],
    );
    return rows.map((r) => r.pid);
  });
}

/** CPU so far of every backend serving `dbName`, by pid, microseconds (NaN where unreadable). */
export async function postgresCpuByPid(
  dbName: string,
  filter: BackendFilter = {},
): Promise<Map<number, number>> {
  const pids = await postgresBackendPids(dbName, filter);
  return new Map(pids.map((pid) => [pid, statCpuMicros(`/proc/${pid}/stat`)]));
}

/** CPU the backends used between two snapshots; connections opened in between count from zero. */
export function postgresCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, micros] of after) sum += micros - (before.get(pid) ?? 0);
  return sum;
}
