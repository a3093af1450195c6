import { cpus, loadavg } from 'node:os';

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? NaN;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(latenciesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/** 61234.5 → "61,235"; small rates keep one decimal. */
export function fmtRate(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

/** Milliseconds with precision that suits the magnitude. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function fmtMb(bytes: number): string {
  return Number.isFinite(bytes) ? (bytes / (1024 * 1024)).toFixed(0) : 'n/a';
}

export function fmtPct(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(0)}%` : 'n/a';
}

/** A markdown table: `header()` prints the heading and separator, `row()` one line each. */
export class MarkdownTable {
  constructor(private readonly columns: string[]) {}

  header(): void {
    console.log(`| ${this.columns.join(' | ')} |`);
    console.log(`| ${this.columns.map(() => '---').join(' | ')} |`);
  }

  row(cells: Array<string | number>): void {
    if (cells.length !== this.columns.length) {
      throw new Error(`table row has ${cells.length} cells, expected ${this.columns.length}`);
    }
    console.log(`| ${cells.join(' | ')} |`);
  }
}

/** One line that says what the numbers were measured on, including who else used the CPUs. */
export function machineNote(): string {
  const cores = cpus().length;
  const [l1, l5, l15] = loadavg().map((l) => l.toFixed(2));
  return (
    `Node ${process.version}, ${cores} core(s) shared by the app process and the load generator ` +
    `(and anything else running); load average ${l1} / ${l5} / ${l15} before the run`
  );
}

export function loadAverageNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}
