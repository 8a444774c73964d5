/**
 * `npm run bench`: every comparison group, one after the other, each in its
 * own child process (so no group's JIT state, workers, sockets or garbage
 * disturb another), each with its own repetitions; then one table of medians
 * with min-max spread and the ratio of ours to each alternative, the issue's
 * targets with pass/fail, and a report:
 *
 * - `bench/results/latest.json`: machine (cpus, model, memory, load), Node,
 *   date, git commit, and every figure of every group;
 * - `bench/results/latest.md`: the same as tables, with
 * - `bench/results/ratios.svg`: a bar chart of the target ratios against
 *   their targets (drawn here, no charting package);
 * - `bench/results/latest.log`: what each group printed (git-ignored).
 *
 * Usage: `npm run bench [-- [--quick] [group ...] [--out DIR] [--verbose]]`,
 * groups `core`, `bridge`, `websocket` (or `ws`), `swarm`. A quick or
 * filtered run writes its report under `bench/results/partial/` so it never
 * replaces the full report (`--out DIR` picks the directory).
 *
 * Groups (each writes its figures with `--json FILE`, see `bench/lib/report.ts`):
 * - core: `bench/core.ts` (sequencer vs for await, depth, ConductorStream vs TransformStream)
 * - bridge: `bench/bridge.ts` (worker_threads: raw postMessage, Comlink, transferable ReadableStream; latency; buffers; slow consumer)
 * - websocket: `bench/websocket.ts` (ws child process: raw ws JSON and superjson, 64 per frame)
 * - swarm: `examples/agent-swarm/bench.ts` (31 agents of ~1 s: wall vs critical path)
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, GroupResult, Target } from './lib/report.ts';
import { si, table } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Group {
  name: string;
  aliases: string[];
  file: string;
  args(quick: boolean): string[];
  env(quick: boolean): Record<string, string>;
}

const GROUPS: Group[] = [
  {
    name: 'core',
    aliases: [],
    file: 'bench/core.ts',
    args: () => [],
    // core.ts interleaves its cases over BENCH_REPS rounds after 2 warm-ups; the quick run shrinks every workload.
    env: (quick): Record<string, string> => (quick ? { BENCH_SCALE: '0.25', BENCH_REPS: '5' } : { BENCH_REPS: '7' }),
  },
  { name: 'bridge', aliases: [], file: 'bench/bridge.ts', args: (quick) => (quick ? ['--quick'] : []), env: () => ({}) },
  { name: 'websocket', aliases: ['ws'], file: 'bench/websocket.ts', args: (quick) => (quick ? ['--quick'] : []), env: () => ({}) },
  { name: 'swarm', aliases: ['agent-swarm'], file: 'examples/agent-swarm/bench.ts', args: (quick) => ['--runs', quick ? '2' : '5'], env: () => ({}) },
];

/** The issue's targets, in its order, with the chart's short labels. */
const TARGET_ORDER: Array<{ id: string; label: string }> = [
  { id: 'sequencer-vs-for-await', label: 'sequencer / for await' },
  { id: 'depth-1000', label: 'depth 1,000 / depth 1, per item' },
  { id: 'conductor-vs-transformstream', label: 'ConductorStream / TransformStream' },
  { id: 'bridge-vs-raw-batched', label: 'bridge / raw postMessage x64' },
  { id: 'bridge-whole-batches-vs-raw', label: 'same, whole batches of 64' },
  { id: 'bridge-vs-transferable-stream', label: 'bridge / transferable ReadableStream' },
  { id: 'bridge-vs-comlink', label: 'bridge / Comlink next() per item' },
  { id: 'ws-vs-raw-superjson', label: 'ws bridge / raw ws superjson x64' },
  { id: 'buffers-vs-raw', label: '64 KiB buffers / raw transfer' },
  { id: 'first-item-vs-round-trip', label: 'first item / raw round trip' },
  { id: 'slow-consumer-within-window', label: 'slow consumer: buffered / window' },
  { id: 'swarm-wall-vs-critical-path', label: 'swarm wall / critical path' },
];

// ---- arguments -----------------------------------------------------------------

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(
    [
      'npm run bench [-- [--quick] [group ...] [--out DIR] [--verbose]]',
      `  groups: ${GROUPS.map((g) => [g.name, ...g.aliases].join('|')).join(', ')} (default: all)`,
      '  --quick    smaller workloads and fewer repetitions (under two minutes on 2 cores)',
      '  --out DIR  where to write latest.json, latest.md, ratios.svg (default bench/results,',
      '             or bench/results/partial for a quick or filtered run)',
      '  --verbose  show every group\'s own tables as it runs',
      '  --render FILE  redraw latest.md and ratios.svg from a latest.json, running nothing',
    ].join('\n'),
  );
  process.exit(0);
}
/** `--render FILE`: redraw latest.md and ratios.svg from a latest.json (next to it, or into --out), without running anything. */
const renderIndex = argv.indexOf('--render');
const RENDER = renderIndex >= 0 ? argv[renderIndex + 1] : undefined;
const QUICK = argv.includes('--quick');
const VERBOSE = argv.includes('--verbose');
const outIndex = argv.indexOf('--out');
const OUT_ARG = outIndex >= 0 ? argv[outIndex + 1] : argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const positional = argv.filter((a, i) => !a.startsWith('-') && !(outIndex >= 0 && i === outIndex + 1) && !(renderIndex >= 0 && i === renderIndex + 1));
const selected = positional.length === 0 ? GROUPS : positional.map((p) => {
  const g = GROUPS.find((x) => x.name === p || x.aliases.includes(p));
  if (g === undefined) {
    console.error(`unknown group "${p}"; one of: ${GROUPS.map((x) => x.name).join(', ')}`);
    process.exit(2);
  }
  return g;
});
const PARTIAL = QUICK || selected.length < GROUPS.length;
const OUT = OUT_ARG !== undefined ? join(process.cwd(), OUT_ARG) : join(ROOT, 'bench/results', PARTIAL ? 'partial' : '');
/** Kills a group that hangs. */
const TIMEOUT_MS = (QUICK ? 3 : 15) * 60_000;

// ---- machine --------------------------------------------------------------------

function git(...args: string[]): string | undefined {
  try {
    // trimEnd only: porcelain lines start with a status column that may be a space.
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  } catch {
    return undefined;
  }
}

/** One-minute load average, sampled every 5 s for the whole run. */
const loadSamples: number[] = [];
const sampleLoad = (): void => void loadSamples.push(os.loadavg()[0]!);

function machine() {
  const cpus = os.cpus();
  const dirty = git('status', '--porcelain', '--', 'src', 'adapters');
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((os.freemem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    commit: git('rev-parse', '--short', 'HEAD'),
    /** Library files that differed from the commit when the run started (others edit them meanwhile). */
    uncommittedLibraryFiles: dirty === undefined || dirty === '' ? [] : dirty.split('\n').map((l) => l.slice(3)),
  };
}

// ---- running one group ---------------------------------------------------------------

interface GroupRun {
  name: string;
  file: string;
  args: string[];
  env: Record<string, string>;
  seconds: number;
  loadBefore: number[];
  loadAfter: number[];
  exitCode: number | null;
  error?: string;
  result?: GroupResult;
}

async function runGroup(group: Group, tmp: string, log: string[]): Promise<GroupRun> {
  const jsonFile = join(tmp, `${group.name}.json`);
  const args = [...group.args(QUICK), '--json', jsonFile];
  const env = group.env(QUICK);
  const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const started = performance.now();
  process.stderr.write(`\n[${group.name}] node --import tsx ${group.file} ${args.slice(0, -2).join(' ')}${Object.keys(env).length ? ` (${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, group.file), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out.push(chunk);
    if (VERBOSE) process.stdout.write(chunk);
  });
  // Progress lines (each bench reports its reps on stderr) go through, prefixed.
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    out.push(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') process.stderr.write(`[${group.name}] ${line}\n`);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
  }, TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  log.push(`===== ${group.name}: ${group.file} ${args.join(' ')} (exit ${exitCode}, ${seconds} s)\n`, out.join(''));
  const run: GroupRun = {
    name: group.name,
    file: group.file,
    args: args.slice(0, -2),
    env,
    seconds,
    loadBefore,
    loadAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
    exitCode,
  };
  try {
    if (exitCode !== 0) throw new Error(timedOut ? `timed out after ${TIMEOUT_MS / 1000} s` : `exited with code ${exitCode}`);
    run.result = JSON.parse(readFileSync(jsonFile, 'utf8')) as GroupResult;
    process.stderr.write(`[${group.name}] done in ${seconds} s\n`);
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[${group.name}] FAILED: ${run.error}\n${out.join('').split('\n').slice(-30).join('\n')}\n`);
  }
  return run;
}

// ---- formatting -------------------------------------------------------------------

function fmtValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  switch (unit) {
    case 'items/s':
      return si(value);
    case 'MB/s':
    case 'B':
    case 'items':
      return Math.round(value).toLocaleString('en');
    case 's':
      return value.toFixed(2);
    default:
      return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  }
}

function fmtX(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 0.1) return value.toFixed(2);
  return value.toPrecision(2);
}

const fmtRange = (r: { ratio: number; min: number; max: number }): string =>
  `${fmtX(r.ratio)}x (${fmtX(r.min)}-${fmtX(r.max)})`;

const ROLE_MARK: Record<Figure['role'], string> = { ours: '(ours)', 'ours-variant': 'ours, other setting', alternative: 'alternative', reference: 'reference' };

/** Rows of the consolidated figures table: a section heading row, then its figures. */
function figureRows(runs: GroupRun[]): Array<{ heading?: string; group: string; cells?: string[] }> {
  const rows: Array<{ heading?: string; group: string; cells?: string[] }> = [];
  for (const run of runs) {
    if (run.result === undefined) continue;
    const sections = [...new Set(run.result.figures.map((f) => f.section))];
    for (const s of sections) {
      rows.push({ group: run.name, heading: s });
      for (const f of run.result.figures.filter((x) => x.section === s)) {
        const single = f.samples.length <= 1;
        rows.push({
          group: run.name,
          cells: [
            f.name,
            ROLE_MARK[f.role],
            fmtValue(f.median, f.unit),
            single ? '' : `${fmtValue(f.min, f.unit)}-${fmtValue(f.max, f.unit)}`,
            f.unit,
            f.role === 'ours' ? '' : f.vsOurs === undefined ? '' : fmtRange(f.vsOurs),
          ],
        });
      }
    }
  }
  return rows;
}

/** The consolidated table: a heading line per comparison, then its figures (headings do not widen the columns). */
function figureTable(rows: ReturnType<typeof figureRows>): string {
  const header = ['', ...FIGURE_HEADER];
  const body = rows.filter((r) => r.cells !== undefined).map((r) => ['', ...r.cells!]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((r) => r[c]!.length)));
  widths[0] = 2;
  /** Right-aligned: median, min-max, ratio. */
  const right = new Set([3, 4, 6]);
  const line = (r: string[]) => r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  let group = '';
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      out.push('', `[${group}]`);
    }
    out.push(r.heading !== undefined ? `${r.heading}:` : line(['', ...r.cells!]));
  }
  return out.join('\n');
}

const FIGURE_HEADER = ['contender', 'role', 'median', 'min-max', 'unit', 'ours / this (per-rep range)'];
const TARGET_HEADER = ['target', 'goal', 'measured (per-rep range)', 'best setting', 'pass'];

function orderedTargets(runs: GroupRun[]): Target[] {
  const all = runs.flatMap((r) => r.result?.targets ?? []);
  const rank = (t: Target) => {
    const i = TARGET_ORDER.findIndex((o) => o.id === t.id);
    return i < 0 ? TARGET_ORDER.length : i;
  };
  return all.sort((a, b) => rank(a) - rank(b));
}

function targetCells(t: Target): string[] {
  return [t.what, t.target, fmtRange(t), t.best ? `${fmtX(t.best.ratio)}x ${t.best.config}` : '', t.pass ? 'pass' : 'FAIL'];
}

// ---- the chart -------------------------------------------------------------------------

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A horizontal bar per target on one log-scale axis: the bar is the measured
 * ratio (green: pass, red: miss), the whisker its per-repetition min-max, the
 * dashed mark the target. Bars of ">=" targets must reach past their mark,
 * bars of "<=" targets must stop short of it.
 */
function ratioChart(targets: Target[], subtitle: string): string {
  const labelOf = (t: Target) => TARGET_ORDER.find((o) => o.id === t.id)?.label ?? t.what;
  const W = 940;
  const left = 300;
  const right = W - 90;
  const top = 78;
  const rowH = 34;
  const bottom = top + rowH * targets.length;
  const H = bottom + 62;
  const values = targets.flatMap((t) => [t.ratio, t.min, t.max, t.threshold]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.5, ...values) * 0.95));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(2, ...values) * 1.05));
  const x = (v: number) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (right - left);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="17" font-weight="600" fill="#111">stream-weaver: measured ratios against the targets</text>`,
    `<text x="16" y="46" fill="#555">${esc(subtitle)}</text>`,
  );
  // Legend.
  const ly = 64;
  out.push(
    `<rect x="16" y="${ly - 9}" width="14" height="10" fill="#2e7d32"/><text x="35" y="${ly}" fill="#333">pass</text>`,
    `<rect x="75" y="${ly - 9}" width="14" height="10" fill="#c62828"/><text x="94" y="${ly}" fill="#333">miss</text>`,
    `<line x1="140" y1="${ly - 11}" x2="140" y2="${ly + 2}" stroke="#111" stroke-width="2" stroke-dasharray="3,2"/><text x="147" y="${ly}" fill="#333">target</text>`,
    `<line x1="200" y1="${ly - 4}" x2="224" y2="${ly - 4}" stroke="#333" stroke-width="1.5"/><line x1="200" y1="${ly - 8}" x2="200" y2="${ly}" stroke="#333"/><line x1="224" y1="${ly - 8}" x2="224" y2="${ly}" stroke="#333"/>`,
    `<text x="230" y="${ly}" fill="#333">per-rep min-max</text>`,
    `<text x="345" y="${ly}" fill="#333">log scale; "&gt;=" bars must reach past their target, "&lt;=" bars must stop short of it</text>`,
  );
  // Grid and axis.
  const ticks: number[] = [];
  for (let d = Math.log10(lo); d <= Math.log10(hi) + 1e-9; d++) for (const m of [1, 2, 5]) if (m * 10 ** d <= hi * 1.0001) ticks.push(m * 10 ** d);
  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    const major = Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${bottom}" stroke="${t === 1 ? '#999' : major ? '#ddd' : '#f0f0f0'}" stroke-width="${t === 1 ? 1.5 : 1}"/>`);
    out.push(`<text x="${tx}" y="${bottom + 18}" text-anchor="middle" fill="#555">${Number(t.toPrecision(1))}x</text>`);
  }
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#888"/>`);
  out.push(`<text x="${(left + right) / 2}" y="${bottom + 40}" text-anchor="middle" fill="#333">ratio (ours / alternative, as each target is stated)</text>`);
  targets.forEach((t, i) => {
    const y = top + i * rowH;
    const mid = y + rowH / 2;
    const color = t.pass ? '#2e7d32' : '#c62828';
    if (i % 2 === 1) out.push(`<rect x="8" y="${y}" width="${W - 16}" height="${rowH}" fill="#fafafa"/>`);
    out.push(`<text x="${left - 10}" y="${mid - 2}" text-anchor="end" fill="#111">${esc(labelOf(t))}</text>`);
    out.push(`<text x="${left - 10}" y="${mid + 12}" text-anchor="end" fill="#777" font-size="11">target ${esc(t.target)}</text>`);
    const bx = x(lo);
    out.push(`<rect x="${bx}" y="${mid - 8}" width="${Math.max(1, x(t.ratio) - bx).toFixed(1)}" height="16" fill="${color}" fill-opacity="0.85"/>`);
    if (Number.isFinite(t.min) && Number.isFinite(t.max) && t.max > t.min) {
      const [a, b] = [x(t.min), x(t.max)];
      out.push(
        `<line x1="${a.toFixed(1)}" y1="${mid}" x2="${b.toFixed(1)}" y2="${mid}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${a.toFixed(1)}" y1="${mid - 5}" x2="${a.toFixed(1)}" y2="${mid + 5}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${b.toFixed(1)}" y1="${mid - 5}" x2="${b.toFixed(1)}" y2="${mid + 5}" stroke="#222" stroke-width="1.5"/>`,
      );
    }
    const tx = x(t.threshold).toFixed(1);
    out.push(`<line x1="${tx}" y1="${y + 3}" x2="${tx}" y2="${y + rowH - 3}" stroke="#111" stroke-width="2.5" stroke-dasharray="4,2"/>`);
    const end = Math.max(x(t.ratio), Number.isFinite(t.max) ? x(t.max) : 0, x(t.threshold));
    out.push(`<text x="${(end + 8).toFixed(1)}" y="${mid + 4}" fill="${color}" font-weight="600">${fmtX(t.ratio)}x${t.pass ? '' : ' miss'}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---- the report ---------------------------------------------------------------------------

function markdown(report: Report): string {
  const m = report.machine;
  const lines: string[] = [];
  /** `align`: one letter per column, l or r. */
  const mdTable = (header: string[], rows: string[][], align: string) => [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (align[i] === 'r' ? '--:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ];
  const loads = report.load;
  lines.push(
    `# stream-weaver benchmark report`,
    '',
    `${report.quick ? 'Quick' : 'Full'} run of \`npm run bench${report.argv.length ? ` -- ${report.argv.join(' ')}` : ''}\`, ${report.date}, ${report.totalSeconds} s.`,
    '',
    `Machine: ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB memory, ${m.platform}; Node ${m.node} (V8 ${m.v8}); commit ${m.commit ?? '?'}` +
      (m.uncommittedLibraryFiles.length ? ` with uncommitted library edits in ${m.uncommittedLibraryFiles.map((f) => `\`${f}\``).join(', ')} (other engineers were editing meanwhile)` : '') +
      '.',
    '',
    `Load: the machine is shared and noisy. One-minute load average during the run: median ${loads.median}, min ${loads.min}, max ${loads.max} ` +
      `(${loads.samples} samples every 5 s) on ${m.cpus} cores; absolute figures drift by up to 2x between runs, so every comparison is a ratio of medians taken side by side in the same run.`,
    '',
    `## Targets: ${report.targets.filter((t) => t.pass).length} of ${report.targets.length} met`,
    '',
    '![measured ratios against their targets](ratios.svg)',
    '',
    ...mdTable(TARGET_HEADER, report.targets.map(targetCells), 'lrrll'),
    '',
  );
  const notes = report.targets.filter((t) => t.note);
  if (notes.length) {
    lines.push(...notes.map((t) => `- ${t.what}: ${t.note}`), '');
  }
  lines.push(
    '## Every figure',
    '',
    'Medians over the repetitions, min-max across them; "ours / this" is the ratio of the library\'s contender in that comparison (marked "(ours)") to the row, ' +
      'in the row\'s unit, with the range of the per-repetition ratios taken side by side: for rates (items/s, MB/s) above 1 means ours is faster, for costs (us, ns/item, s, B) below 1 means ours is cheaper.',
    '',
  );
  for (const run of report.groups) {
    lines.push(`### ${run.name}: ${run.result?.title ?? run.file}`, '');
    lines.push(
      `\`node --import tsx ${run.file}${run.args.length ? ` ${run.args.join(' ')}` : ''}\`${Object.keys(run.env).length ? ` with ${Object.entries(run.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}: ` +
        `${run.result ? `${run.result.reps} repetitions, ` : ''}${run.seconds} s, load ${run.loadBefore[0]} before, ${run.loadAfter[0]} after.`,
      '',
    );
    if (run.result === undefined) {
      lines.push(`**Failed:** ${run.error}`, '');
      continue;
    }
    for (const s of [...new Set(run.result.figures.map((f) => f.section))]) {
      lines.push(`**${s}**`, '');
      lines.push(
        ...mdTable(
          FIGURE_HEADER,
          run.result.figures
            .filter((f) => f.section === s)
            .map((f) => [
              f.role === 'ours' ? `**${f.name}**` : f.name,
              ROLE_MARK[f.role],
              fmtValue(f.median, f.unit),
              f.samples.length <= 1 ? '' : `${fmtValue(f.min, f.unit)}-${fmtValue(f.max, f.unit)}`,
              f.unit,
              f.role === 'ours' || f.vsOurs === undefined ? '' : fmtRange(f.vsOurs),
            ]),
          'llrrlr',
        ),
        '',
      );
    }
    if (run.result.notes.length) lines.push(...run.result.notes.map((n) => `- ${n}`), '');
  }
  lines.push('Raw per-repetition samples and each bench\'s own result object are in [latest.json](latest.json).', '');
  return lines.join('\n');
}

interface Report {
  date: string;
  quick: boolean;
  argv: string[];
  totalSeconds: number;
  machine: ReturnType<typeof machine>;
  load: { median: number; min: number; max: number; samples: number };
  targets: Target[];
  groups: GroupRun[];
}

/** Writes latest.md and ratios.svg for `report` into `dir`. */
function render(report: Report, dir: string): void {
  const m = report.machine;
  const subtitle =
    `${report.quick ? 'quick' : 'full'} run ${report.date.slice(0, 16).replace('T', ' ')} UTC, commit ${m.commit ?? '?'}, Node ${m.node}, ` +
    `${m.cpus} x ${m.cpuModel}, load avg ${report.load.median} (max ${report.load.max})`;
  writeFileSync(join(dir, 'ratios.svg'), ratioChart(report.targets, subtitle));
  writeFileSync(join(dir, 'latest.md'), markdown(report));
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = performance.now();
  const info = machine();
  console.log(
    `stream-weaver bench${QUICK ? ' (quick)' : ''}: ${selected.map((g) => g.name).join(', ')}; node ${info.node}, ${info.cpus} x ${info.cpuModel}, ` +
      `${info.memoryGiB} GiB, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  sampleLoad();
  const loadTimer = setInterval(sampleLoad, 5_000);
  const tmp = mkdtempSync(join(os.tmpdir(), 'stream-weaver-bench-'));
  const log: string[] = [];
  const runs: GroupRun[] = [];
  try {
    for (const group of selected) runs.push(await runGroup(group, tmp, log));
  } finally {
    clearInterval(loadTimer);
    rmSync(tmp, { recursive: true, force: true });
  }
  sampleLoad();
  const sorted = [...loadSamples].sort((a, b) => a - b);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const report: Report = {
    date: new Date().toISOString(),
    quick: QUICK,
    argv,
    totalSeconds: Math.round((performance.now() - started) / 1000),
    machine: info,
    load: { median: r2(sorted[sorted.length >> 1]!), min: r2(sorted[0]!), max: r2(sorted[sorted.length - 1]!), samples: sorted.length },
    targets: orderedTargets(runs),
    groups: runs,
  };

  // The consolidated table.
  console.log(
    `\nEvery figure: medians, min-max over the repetitions, and ours / this (the library's contender over the row, in the row's unit;\n` +
      'rates: > 1 = ours faster; costs: < 1 = ours cheaper; ranges are per-repetition ratios taken side by side).\n',
  );
  console.log(figureTable(figureRows(runs)));

  console.log(`\nTargets (issue 7), ratios of medians from this run:\n`);
  console.log(table([TARGET_HEADER, ...report.targets.map(targetCells)]));
  for (const t of report.targets) if (t.note) console.log(`  - ${t.what}: ${t.note}`);
  const met = report.targets.filter((t) => t.pass).length;
  console.log(`\n${met} of ${report.targets.length} targets met; load average (1 min) median ${report.load.median}, max ${report.load.max} on ${info.cpus} cores; ${report.totalSeconds} s`);

  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  render(report, OUT);
  writeFileSync(join(OUT, 'latest.log'), log.join(''));
  const rel = (f: string) => relative(process.cwd(), join(OUT, f)) || f;
  console.log(`report: ${rel('latest.md')} (chart ${rel('ratios.svg')}, figures ${rel('latest.json')}, each group's output ${rel('latest.log')})`);
  return runs.some((r) => r.result === undefined) ? 1 : 0;
}

if (RENDER !== undefined) {
  const file = join(process.cwd(), RENDER);
  const dir = OUT_ARG !== undefined ? OUT : join(file, '..');
  render(JSON.parse(readFileSync(file, 'utf8')) as Report, dir);
  console.log(`rendered ${relative(process.cwd(), join(dir, 'latest.md'))} and ratios.svg from ${RENDER}`);
} else {
  process.exitCode = await main();
}
