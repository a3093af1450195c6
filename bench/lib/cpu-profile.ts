/**
 * Reads a V8 `.cpuprofile` (from BenchApp.profile) and prints where the app's main thread spent its
 * time: by phase (caller-given patterns matched against the whole stack), by area (package, our
 * source folder, node internals, GC), by function (self time), and the inclusive time of our own
 * functions. Idle time is left out of the shares.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = relative('/', process.cwd());

function cleanUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const i = path.indexOf(ROOT);
  return i >= 0 ? path.slice(i + ROOT.length + 1) : path;
}

/** A coarse bucket: "(gc)", "node internals", "pkg fastify", "src/modules/links", … */
export function areaOf(frame: CallFrame): string {
  const name = frame.functionName;
  if (name === '(garbage collector)') return '(gc)';
  if (name === '(program)') return '(program: native, not attributed)';
  if (name === '(idle)') return '(idle)';
  const url = cleanUrl(frame.url);
  if (url === '') return `(native) ${name || 'anonymous'}`;
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  const src = /^(src|bench|test)\/(.+)\/[^/]+$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  return url;
}

function functionKey(frame: CallFrame): string {
  const url = cleanUrl(frame.url);
  const where = url ? ` ${url.replace(/^.*node_modules\//, '')}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where}`;
}

interface Entry {
  key: string;
  ms: number;
}

function top(map: Map<string, number>, n: number): Entry[] {
  return [...map.entries()]
    .map(([key, ms]) => ({ key, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n);
}

/** A named phase: a sample belongs to the first phase whose pattern matches any frame of its stack. */
export type Phase = [name: string, pattern: RegExp];

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  phases: Entry[];
  areas: Entry[];
  selfTop: Entry[];
  ownInclusiveTop: Entry[];
}

export function summarizeProfile(path: string, phases: Phase[] = [], topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const ownInclusive = new Map<string, number>();
  const phaseMs = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  // timeDeltas[i] is the time before sample i; the interval after a sample belongs to it.
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    totalMs += ms;
    const area = areaOf(node.callFrame);
    if (area === '(idle)') {
      idleMs += ms;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const key = functionKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + ms);
    const stack: string[] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      stack.push(functionKey(byId.get(id)!.callFrame));
    }
    const phase =
      area === '(gc)' ? '(gc)' : (phases.find(([, re]) => stack.some((k) => re.test(k)))?.[0] ?? 'other');
    phaseMs.set(phase, (phaseMs.get(phase) ?? 0) + ms);
    // Inclusive time of our own functions: each function once per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!/^(src|migrations)\//.test(cleanUrl(frame.url))) continue;
      const k = functionKey(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      ownInclusive.set(k, (ownInclusive.get(k) ?? 0) + ms);
    }
  }
  return {
    totalMs,
    idleMs,
    busyMs: totalMs - idleMs,
    phases: top(phaseMs, phases.length + 2),
    areas: top(areas, topN),
    selfTop: top(self, topN),
    ownInclusiveTop: top(ownInclusive, topN),
  };
}

export function printProfileSummary(path: string, phases: Phase[] = [], topN = 15): void {
  const s = summarizeProfile(path, phases, topN);
  const pct = (ms: number) => `${((100 * ms) / s.busyMs).toFixed(1)}%`;
  console.log(
    `\nCPU profile of the app's main thread: ${path}\n` +
      `${(s.totalMs / 1000).toFixed(1)} s sampled, ${((100 * s.busyMs) / s.totalMs).toFixed(0)}% busy; ` +
      `shares below are of busy time (crypto on the libuv pool is not in this profile).`,
  );
  const table = (title: string, rows: Entry[]) => {
    console.log(`\n| ${title} | ms | share |\n| --- | --- | --- |`);
    for (const r of rows)
      console.log(`| ${r.key.replace(/\|/g, '\\|')} | ${r.ms.toFixed(0)} | ${pct(r.ms)} |`);
  };
  if (phases.length > 0) table('phase (inclusive)', s.phases);
  table('area (self time)', s.areas);
  table('function (self time)', s.selfTop);
  table('own function (inclusive)', s.ownInclusiveTop);
}
