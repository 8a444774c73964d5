/**
 * A trace as a self-contained HTML page: a summary, then an SVG timeline with
 * one row per plan node, nested by the plan tree. Each row draws production
 * (thin, upper lane) and consumption (lower lane) as separate bars, the
 * consumer's waits in red over the consumption bar, errors and cancellations
 * as marks where the node ended, and contexts (main, each worker, each socket
 * peer) in their own colours. No script, no external resource: it opens from
 * disk, in a mail attachment, or in a CI artifact viewer.
 *
 * @module
 */
import type { Trace, TraceNodeJSON } from './trace.ts';

/**
 * Options of {@link traceToHtml}.
 *
 * @example
 * ```ts
 * const html = traceToHtml(trace, { title: 'agent swarm', collapseRuns: 0 });
 * ```
 */
export interface TraceHtmlOptions {
  /** The page title. Default: `stream-weaver trace`. */
  title?: string;
  /**
   * Runs of at least this many sibling leaves with no label, of one kind and
   * context (the `chain([token])` arrays of a token stream), are drawn as one
   * row, so hundreds of nodes stay readable. 0 draws every node. Default 4.
   */
  collapseRuns?: number;
  /** Width of the timeline part of the SVG, in px. Default 960. */
  timelineWidth?: number;
}

const ROW = 18;
const LABEL_WIDTH = 340;
const AXIS = 28;
const INDENT = 12;
const MAX_INDENT_DEPTH = 16;
const PALETTE = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#db2777', '#0d9488', '#ea580c', '#4f46e5', '#65a30d', '#0891b2'];
const WAIT = '#dc2626';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const ms = (value: number | null): string => (value === null ? '-' : `${value.toFixed(value < 10 ? 2 : 1)} ms`);

/** One drawn row: a node, or a collapsed run of anonymous sibling leaves. */
interface DrawRow {
  nodes: TraceNodeJSON[];
  depth: number;
}

/** Groups runs of anonymous sibling leaves into one row each (see `collapseRuns`). */
function drawRows(nodes: TraceNodeJSON[], collapseRuns: number): DrawRow[] {
  const hasChildren = new Set<number>();
  for (const node of nodes) if (node.parent !== null) hasChildren.add(node.parent);
  const rows: DrawRow[] = [];
  let run: TraceNodeJSON[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    if (collapseRuns > 0 && run.length >= collapseRuns) rows.push({ nodes: run, depth: run[0]!.depth });
    else for (const node of run) rows.push({ nodes: [node], depth: node.depth });
    run = [];
  };
  for (const node of nodes) {
    const leaf = !node.named && !hasChildren.has(node.id) && node.outcome !== 'error';
    const head = run[0];
    if (leaf && head !== undefined && head.parent === node.parent && head.kind === node.kind && head.context === node.context) {
      run.push(node);
      continue;
    }
    flush();
    if (leaf) run.push(node);
    else rows.push({ nodes: [node], depth: node.depth });
  }
  flush();
  return rows;
}

/** A tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function tooltip(row: DrawRow): string {
  const first = row.nodes[0]!;
  if (row.nodes.length > 1) {
    const items = row.nodes.reduce((sum, n) => sum + n.items, 0);
    return `${row.nodes.length} × ${first.label} (${first.context}): ${items} items`;
  }
  const n = first;
  const lines = [
    `${n.label} — ${n.kind}${n.input === true ? ' read as input' : ''} in ${n.context}, ${n.outcome}`,
    `chained ${ms(n.chained)}, produced ${ms(n.firstProduced)} … ${ms(n.lastProduced)}`,
    `consumed from ${ms(n.firstConsumed)}, done ${ms(n.done)}`,
    `${n.items} items${n.bytes === null ? '' : `, ~${n.bytes} bytes`}, consumer waited ${ms(n.waitMs)}`,
  ];
  if (n.remote !== undefined) lines.push(`producer: opened ${ms(n.remote.opened)}, done ${ms(n.remote.done)}, sent ${n.remote.items} items`);
  if (n.error !== undefined) lines.push(n.recovered === true ? `recovered from ${n.error}` : n.error);
  return lines.join('\n');
}

/** Latest time anywhere in the trace: the right end of the axis. */
function endOf(trace: Trace): number {
  let end = trace.durationMs;
  for (const n of trace.nodes) {
    for (const t of [n.done, n.lastProduced, n.remote?.done ?? null]) if (t !== null && t > end) end = t;
  }
  return Math.max(end, 0.001);
}

function drawRow(row: DrawRow, index: number, x: (t: number | null) => number, colour: (c: string) => string, end: number): string {
  const y = AXIS + index * ROW;
  const first = row.nodes[0]!;
  const c = colour(first.context);
  const depth = Math.min(row.depth, MAX_INDENT_DEPTH);
  const indent = 6 + depth * INDENT;
  const maxChars = Math.max(8, Math.floor((LABEL_WIDTH - indent - 16) / 6.6));
  let label = row.nodes.length > 1 ? `${row.nodes.length} × ${first.label}` : first.label;
  if (label.length > maxChars) label = `${label.slice(0, maxChars - 1)}…`;
  const ids = row.nodes.map((n) => n.id).join(',');
  const parts: string[] = [`<g class="row" data-ids="${ids}" data-context="${escape(first.context)}">`];
  parts.push(`<title>${escape(tooltip(row))}</title>`);
  if (index % 2 === 1) parts.push(`<rect class="band" x="0" y="${y}" width="100%" height="${ROW}"/>`);
  parts.push(`<circle cx="${indent}" cy="${y + ROW / 2}" r="3.5" fill="${c}"/>`);
  parts.push(`<text x="${indent + 8}" y="${y + ROW / 2 + 4}"${first.named ? ' class="named"' : ''}>${escape(label)}</text>`);
  for (const n of row.nodes) {
    const start = n.chained ?? n.firstProduced ?? n.firstConsumed;
    const stop = n.done ?? end;
    if (start !== null) parts.push(`<line class="life" x1="${x(start)}" x2="${x(stop)}" y1="${y + ROW / 2}" y2="${y + ROW / 2}"/>`);
    if (n.firstProduced !== null) {
      const a = x(n.firstProduced);
      const b = Math.max(a + 2, x(n.lastProduced ?? n.firstProduced));
      parts.push(`<rect class="produce" x="${a}" y="${y + 3}" width="${(b - a).toFixed(1)}" height="5" fill="${c}"/>`);
    }
    if (n.firstConsumed !== null) {
      const a = x(n.firstConsumed);
      const b = Math.max(a + 2, x(n.done ?? end));
      parts.push(`<rect class="consume" x="${a}" y="${y + 10}" width="${(b - a).toFixed(1)}" height="5" fill="${c}"/>`);
    }
    for (const [ws, we] of n.waits) {
      const a = x(ws);
      parts.push(`<rect class="wait" x="${a}" y="${y + 10}" width="${Math.max(1, x(we) - a).toFixed(1)}" height="5" fill="${WAIT}"/>`);
    }
    if (n.outcome === 'error' && n.recovered !== true && n.done !== null) parts.push(`<text class="mark error" x="${x(n.done) + 3}" y="${y + ROW / 2 + 4}">✕</text>`);
    if (n.recovered === true && n.done !== null) parts.push(`<text class="mark recovered" x="${x(n.done) + 3}" y="${y + ROW / 2 + 4}">⚠</text>`);
    if (n.outcome === 'cancelled' && n.done !== null) parts.push(`<text class="mark cancelled" x="${x(n.done) + 3}" y="${y + ROW / 2 + 4}">⊘</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

function axis(width: number, height: number, end: number, x: (t: number) => number): string {
  const step = tickStep(end, 10);
  const parts: string[] = [];
  for (let t = 0; t <= end + step / 2; t += step) {
    const px = x(t);
    parts.push(`<line class="grid" x1="${px}" x2="${px}" y1="${AXIS - 4}" y2="${height}"/>`);
    parts.push(`<text class="tick" x="${px}" y="${AXIS - 10}">${Number(t.toPrecision(6))} ms</text>`);
  }
  parts.push(`<line class="axis" x1="${LABEL_WIDTH}" x2="${width}" y1="${AXIS - 4}" y2="${AXIS - 4}"/>`);
  return parts.join('');
}

const STYLE = `
body{font:13px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:16px;color:#111827;background:#fff}
h1{font-size:18px;margin:0 0 6px}
.summary{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0 0 8px;color:#374151}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:0 0 10px;align-items:center}
.legend span{display:inline-flex;align-items:center;gap:5px}
.swatch{display:inline-block;width:18px;height:6px;border-radius:1px}
table{border-collapse:collapse;margin:0 0 10px}td,th{padding:1px 10px 1px 0;text-align:left}
.errors{color:#991b1b;margin:0 0 10px;padding-left:18px}
svg text{font:11px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;fill:#1f2937}
svg text.named{font-weight:600}
svg .band{fill:#f3f4f6}
svg .life{stroke:#9ca3af;stroke-width:1;stroke-dasharray:2 2}
svg .produce{opacity:.5}
svg .grid{stroke:#e5e7eb}
svg .axis{stroke:#6b7280}
svg .tick{fill:#6b7280;text-anchor:middle}
svg .mark{font-size:12px;font-weight:700}
svg .error{fill:#dc2626}
svg .cancelled{fill:#6b7280}
svg .recovered{fill:#d97706}
svg g.row:hover .band,svg g.row:hover{fill-opacity:1}
`;

/**
 * Renders a trace as one self-contained HTML page with an SVG timeline (see
 * the module comment for what is drawn). Hover a row for its numbers.
 *
 * @example
 * ```ts
 * await writeFile('trace.html', traceToHtml(tracer.stop(), { title: 'render /docs' }));
 * ```
 */
export function traceToHtml(trace: Trace, options: TraceHtmlOptions = {}): string {
  const title = options.title ?? 'stream-weaver trace';
  const collapseRuns = options.collapseRuns ?? 4;
  const timelineWidth = options.timelineWidth ?? 960;
  const rows = drawRows(trace.nodes, collapseRuns);
  const end = endOf(trace);
  const width = LABEL_WIDTH + timelineWidth + 24;
  const height = AXIS + rows.length * ROW + 8;
  const x = (t: number | null): number => Math.round((LABEL_WIDTH + ((t ?? 0) / end) * timelineWidth) * 10) / 10;
  const contexts = [trace.context, ...new Set(trace.nodes.map((n) => n.context))].filter((c, i, all) => all.indexOf(c) === i);
  const colour = (context: string): string => PALETTE[Math.max(0, contexts.indexOf(context)) % PALETTE.length]!;
  const body = rows.map((row, i) => drawRow(row, i, x, colour, end)).join('\n');
  const errors = trace.nodes.filter((n) => n.error !== undefined);
  const waited = trace.nodes.filter((n) => n.depth === 0).reduce((sum, n) => sum + n.waitMs, 0);
  const clockRows = trace.clocks
    .map((c) => `<tr><td>${escape(c.context)}</td><td>offset ${ms(c.offsetMs)}</td><td>± ${ms(c.precisionMs)} (round trip ${ms(c.rttMs)})</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>${escape(title)}</h1>
<div class="summary"><span>${trace.nodes.length} nodes in ${rows.length} rows</span><span>${ms(trace.durationMs)}</span><span>traced in ${escape(trace.context)}</span><span>consumer waited ${ms(waited)}</span>${trace.droppedNodes > 0 ? `<span>${trace.droppedNodes} nodes dropped (maxNodes)</span>` : ''}</div>
<div class="legend">${contexts.map((c) => `<span><i class="swatch" style="background:${colour(c)}"></i>${escape(c)}</span>`).join('')}
<span><i class="swatch" style="background:#6b7280;opacity:.5"></i>produced (upper)</span><span><i class="swatch" style="background:#6b7280"></i>consumed (lower)</span>
<span><i class="swatch" style="background:${WAIT}"></i>consumer waiting</span><span>✕ error</span><span>⚠ error recovered by a boundary</span><span>⊘ cancelled</span><span>┄ chained, not yet active</span></div>
${clockRows === '' ? '' : `<table><tr><th>peer clock</th><th></th><th>precision</th></tr>${clockRows}</table>`}
${errors.length === 0 ? '' : `<ul class="errors">${errors.map((n) => `<li>${escape(n.label)} (${escape(n.context)}): ${n.recovered === true ? 'recovered from ' : ''}${escape(n.error!)}</li>`).join('')}</ul>`}
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escape(title)} timeline">
${axis(LABEL_WIDTH + timelineWidth, height, end, x)}
${body}
</svg>
</body></html>
`;
}
