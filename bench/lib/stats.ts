/**
 * Small timing helpers for the benches: medians with spread, and formatting.
 * The machine is noisy, so figures are medians of repetitions taken side by
 * side in one run, and comparisons are ratios of those medians.
 *
 * @module
 */

/** Median, min and max of a set of samples. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function spread(samples: number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, samples };
}

export function median(samples: number[]): number {
  return spread(samples).median;
}

/** 1234567 -> "1.23M", 12345 -> "12.3k". */
export function si(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`;
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}

/** Rounds for JSON output (3 significant digits past the integer part for small values). */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 1000) return Math.round(value);
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Prints rows as an aligned table; the first row is the header. Numbers-looking cells align right. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const isNum = (s: string) => /^[-+~<>=x0-9.]/.test(s) && !/^[a-z]/i.test(s);
  const line = (r: string[]) =>
    r.map((cell, c) => (c > 0 && isNum(cell) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const now = () => performance.now();
