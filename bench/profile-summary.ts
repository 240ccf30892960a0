/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the CPU went, by function (self
 * time), by file or package (self time) and, for the repository's own functions, inclusive time.
 * A time window restricts it to the measured run (profiles also hold start-up and shutdown).
 *
 *   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top 25] [--last SECONDS]
 *
 * `--last` keeps only the last SECONDS before the profile ends (the process exit).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT, table } from './support.js';

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

export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  readonly pct: number;
}

export interface ProfileSummary {
  /** Milliseconds of samples in the window, idle included. */
  readonly windowMs: number;
  /** Share of the window the thread was busy (not "(idle)"). */
  readonly busyPct: number;
  readonly selfByFunction: ProfileEntry[];
  readonly selfByArea: ProfileEntry[];
  /** Inclusive time of the repository's own functions (callees included). */
  readonly inclusiveRepo: ProfileEntry[];
  /**
   * The longest stretches without an idle sample: how long the event loop was blocked, and the
   * repository functions (inclusive time) that filled each stretch.
   */
  readonly longestBusy: { readonly ms: number; readonly atMs: number; readonly top: ProfileEntry[] }[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string): string {
  if (url === '') return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      path = url;
    }
  }
  if (path.startsWith('/')) {
    const nm = path.lastIndexOf('node_modules/');
    if (nm !== -1) return path.slice(nm + 'node_modules/'.length);
    return relative(REPO_ROOT, path);
  }
  return path;
}

/** A file of the repository, a package, or a node internal module. */
function area(frame: CallFrame): string {
  const name = frame.functionName;
  if (frame.url === '' && SPECIAL.has(name)) return name;
  if (frame.url === '') return '(native)';
  const u = shortUrl(frame.url);
  if (u.startsWith('node:')) return u.split('/').slice(0, 3).join('/');
  if (frame.url.includes('node_modules/')) {
    const parts = u.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return u;
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function isRepoCode(frame: CallFrame): boolean {
  return frame.url.startsWith(`file://${REPO_ROOT}/`) && !frame.url.includes('/node_modules/');
}

/**
 * @param window optional [from, to] in milliseconds *before the profile's end* (the process
 *   exit), e.g. [exit - runStart, exit - runEnd].
 */
export function summariseProfile(file: string, top = 20, window?: readonly [number, number]): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const from = window ? profile.endTime - window[0] * 1000 : Number.NEGATIVE_INFINITY;
  const to = window ? profile.endTime - window[1] * 1000 : Number.POSITIVE_INFINITY;

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let windowUs = 0;
  let idleUs = 0;
  const stretches: { us: number; at: number; fns: Map<string, number> }[] = [];
  let current: { us: number; at: number; fns: Map<string, number> } | null = null;
  let t = profile.startTime;
  const n = profile.samples.length;
  for (let i = 0; i < n; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    // A sample stands for the time until the next one.
    const dt = i + 1 < n ? (profile.timeDeltas[i + 1] ?? 0) : 0;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    windowUs += dt;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += dt;
      if (current) stretches.push(current);
      current = null;
    } else {
      current ??= { us: 0, at: (t - profile.startTime) / 1000, fns: new Map() };
      current.us += dt;
    }
    const key = label(frame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const a = area(frame);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (!isRepoCode(f)) continue;
      const k = label(f);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
      if (current) current.fns.set(k, (current.fns.get(k) ?? 0) + dt);
    }
  }
  if (current) stretches.push(current);
  stretches.sort((a, b) => b.us - a.us);
  const longestBusy = stretches.slice(0, 5).map((st) => ({
    ms: st.us / 1000,
    atMs: st.at,
    top: [...st.fns.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / st.us })),
  }));
  const busyUs = windowUs - idleUs;
  const entries = (m: Map<string, number>, exclude: (k: string) => boolean) =>
    [...m.entries()]
      .filter(([k]) => !exclude(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  return {
    windowMs: windowUs / 1000,
    busyPct: windowUs > 0 ? (100 * busyUs) / windowUs : 0,
    selfByFunction: entries(self, (k) => k === '(idle)'),
    selfByArea: entries(areas, (k) => k === '(idle)'),
    inclusiveRepo: entries(inclusive, () => false),
    longestBusy,
  };
}

export function formatProfile(s: ProfileSummary): string {
  const rows = (list: readonly ProfileEntry[]) =>
    list.map((e) => [
      e.name.length > 100 ? `${e.name.slice(0, 97)}...` : e.name,
      `${e.ms.toFixed(0)} ms`,
      `${e.pct.toFixed(1)}%`,
    ]);
  return [
    `window ${(s.windowMs / 1000).toFixed(1)} s, main thread busy ${s.busyPct.toFixed(0)}% of it (percentages below are of busy time)`,
    '',
    table(['self time, by file or package', 'self', 'share'], rows(s.selfByArea)),
    '',
    table(['self time, by function', 'self', 'share'], rows(s.selfByFunction)),
    '',
    table(['inclusive time, repository functions', 'total', 'share'], rows(s.inclusiveRepo)),
    '',
    'longest stretches without an idle sample (event loop blocked or saturated), with what filled them:',
    ...s.longestBusy.map(
      (b) =>
        `  ${b.ms.toFixed(1)} ms at ${(b.atMs / 1000).toFixed(1)} s: ` +
        b.top.map((e) => `${e.name} ${e.ms.toFixed(1)} ms`).join('; '),
    ),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, last: { type: 'string' } },
  });
  if (positionals.length === 0) {
    process.stderr.write('usage: profile-summary.ts FILE.cpuprofile [--top N] [--last SECONDS]\n');
    process.exit(2);
  }
  for (const file of positionals) {
    const window = values.last === undefined ? undefined : ([Number(values.last) * 1000, 0] as const);
    process.stdout.write(`${file}\n${formatProfile(summariseProfile(file, Number(values.top), window))}\n\n`);
  }
}
