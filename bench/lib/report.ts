/**
 * The one shape every benchmark group hands to `bench/index.ts` (`--json FILE`
 * on each sub-bench): figures with median and min-max, grouped in sections
 * that each name the library's contender ("ours"), the ratio of ours to every
 * other figure of its section, and the targets with pass/fail.
 *
 * Ratios are "ours / this" in the figure's unit: for rates (items/s, MB/s)
 * above 1 means ours is faster; for costs (us, ns/item, s, B) below 1 means
 * ours is cheaper. Ranges are the min-max of per-repetition ratios taken side
 * by side in the same repetition, where the bench pairs its runs that way.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { round, spread } from './stats.ts';

/** A ratio of medians with the min-max of the paired per-repetition ratios. */
export interface RatioRange {
  ratio: number;
  min: number;
  max: number;
}

export interface Figure {
  /** Unique within its group. */
  id: string;
  /** Which comparison it belongs to (one "ours" per section). */
  section: string;
  name: string;
  unit: string;
  higherIsBetter: boolean;
  role: 'ours' | 'ours-variant' | 'alternative' | 'reference';
  median: number;
  min: number;
  max: number;
  /** One value per repetition, in repetition order. */
  samples: number[];
  /** Ours / this (per-repetition range), for every figure but ours. */
  vsOurs?: RatioRange;
}

export interface Target {
  /** Stable key, the same in every run (the chart and the report use it). */
  id: string;
  what: string;
  /** As the issue states it, e.g. ">= 0.8x". */
  target: string;
  op: '>=' | '<=';
  threshold: number;
  /** The measured ratio, in the sense of `what`, with its per-repetition range. */
  ratio: number;
  min: number;
  max: number;
  pass: boolean;
  /** The best setting of ours tried, when several were (information, not the pass/fail figure). */
  best?: { ratio: number; config: string };
  note?: string;
}

export interface GroupResult {
  group: string;
  title: string;
  date: string;
  node: string;
  quick: boolean;
  /** Repetitions behind each median. */
  reps: number;
  settings: Record<string, unknown>;
  figures: Figure[];
  targets: Target[];
  notes: string[];
  /** The bench's own result object, unchanged. */
  raw?: unknown;
}

/** `--json FILE` or `--json=FILE` from argv. */
export function jsonFileArg(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--json');
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith('--json='))?.slice('--json='.length);
}

export function writeGroupResult(file: string, result: GroupResult): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}

/** Ratio of medians a/b with the range of the paired ratios a[i]/b[i]. */
export function pairedRatio(a: readonly number[], b: readonly number[]): RatioRange {
  const pairs = a.slice(0, Math.min(a.length, b.length)).map((x, i) => x / b[i]!);
  const r = spread(pairs);
  return { ratio: spread([...a]).median / spread([...b]).median, min: r.min, max: r.max };
}

export interface FigureInput {
  id?: string;
  name: string;
  unit: string;
  higherIsBetter: boolean;
  role: Figure['role'];
  samples: number[];
}

/** Builds one section's figures from samples; the one with role 'ours' is what every other is compared with. */
export function section(name: string, inputs: FigureInput[]): Figure[] {
  const ours = inputs.find((f) => f.role === 'ours');
  return inputs.map((f) => {
    const s = spread(f.samples);
    const figure: Figure = {
      id: f.id ?? `${name} / ${f.name}`,
      section: name,
      name: f.name,
      unit: f.unit,
      higherIsBetter: f.higherIsBetter,
      role: f.role,
      median: round(s.median),
      min: round(s.min),
      max: round(s.max),
      samples: f.samples.map((v) => round(v)),
    };
    if (ours !== undefined && f !== ours) figure.vsOurs = roundRange(pairedRatio(ours.samples, f.samples));
    return figure;
  });
}

export function roundRange(r: RatioRange): RatioRange {
  return { ratio: round(r.ratio), min: round(r.min), max: round(r.max) };
}

/** A target row from a measured ratio. */
export function target(
  id: string,
  what: string,
  op: '>=' | '<=',
  threshold: number,
  measured: RatioRange,
  extra: { best?: { ratio: number; config: string }; note?: string; pass?: boolean } = {},
): Target {
  const pass = extra.pass ?? (op === '>=' ? measured.ratio >= threshold : measured.ratio <= threshold);
  return {
    id,
    what,
    target: `${op} ${threshold}x`,
    op,
    threshold,
    ...roundRange(measured),
    pass,
    ...(extra.best && { best: { ratio: round(extra.best.ratio), config: extra.best.config } }),
    ...(extra.note !== undefined && { note: extra.note }),
  };
}
