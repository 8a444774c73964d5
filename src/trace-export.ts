/**
 * A recorder's nodes as the documented JSON shape (`Trace` in src/trace.ts):
 * plumbing collapsed into its nearest visible ancestor, children in chain
 * order, sequences and conductors aggregating their subtree (times, items,
 * bytes, waits), remote times mapped onto this clock with the best estimate
 * by now.
 *
 * @module
 */
import { peerToLocal, type Recorder, type TraceNode } from './trace-core.ts';
import type { Trace, TraceClockJSON, TraceNodeJSON, TraceOutcome } from './trace.ts';

/** A node on its way out: its visible parent and children, and the aggregates of its subtree. */
interface Row {
  node: TraceNode;
  parent: Row | null;
  children: Row[];
  firstProduced: number;
  lastProduced: number;
  firstConsumed: number;
  items: number;
  bytes: number;
  waitMs: number;
  failedChild: boolean;
}

const min = (a: number, b: number): number => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.min(a, b));
const max = (a: number, b: number): number => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b));

/** Plumbing (transparent) nodes are collapsed into their nearest visible ancestor; roots always show. */
function visibleParent(node: TraceNode): TraceNode | null {
  let parent = node.parent === null ? null : node.parent.resolved();
  while (parent !== null && parent.transparent && parent.parent !== null) parent = parent.parent.resolved();
  return parent;
}

/** The trace recorded so far as plain data (see {@link Trace}); `end` is when it stopped (or now). */
export function exportTrace(recorder: Recorder, end: number): Trace {
  const rows = new Map<TraceNode, Row>();
  for (const node of recorder.nodes) {
    if (node.alias !== null || (node.transparent && node.parent !== null)) continue;
    const remote = node.remote;
    const first = remote === null ? NaN : peerToLocal(remote.clock, remote.firstProduced);
    const last = remote === null ? NaN : peerToLocal(remote.clock, remote.lastProduced);
    rows.set(node, {
      node,
      parent: null,
      children: [],
      firstProduced: Number.isNaN(first) ? node.firstProduced : first,
      lastProduced: Number.isNaN(last) ? node.lastProduced : last,
      firstConsumed: node.firstConsumed,
      items: node.items,
      bytes: remote !== null ? remote.bytes : NaN,
      waitMs: node.waitMs,
      failedChild: false,
    });
  }
  const roots: Row[] = [];
  for (const row of rows.values()) {
    const parent = visibleParent(row.node);
    const parentRow = parent === null ? undefined : rows.get(parent);
    if (parentRow === undefined) roots.push(row);
    else {
      row.parent = parentRow;
      parentRow.children.push(row);
    }
  }
  // Children before parents (ids grow with creation, but a sequence may be created before its parent):
  // aggregate bottom-up over a post-order walk.
  const order: Row[] = [];
  const stack: Array<[Row, number]> = roots.map((r) => [r, 0]);
  for (const root of roots) root.children.sort(byOrder);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [row, i] = top;
    if (i < row.children.length) {
      top[1]++;
      const child = row.children[i]!;
      child.children.sort(byOrder);
      stack.push([child, 0]);
    } else {
      stack.pop();
      order.push(row);
      if (row.parent !== null) aggregateInto(row.parent, row);
    }
  }
  const kept = roots.filter((r) => r.children.length > 0 || r.items > 0 || r.node.outcome !== null).sort(byOrder);
  const nodes: TraceNodeJSON[] = [];
  const t0 = recorder.t0;
  const walk: Array<[Row, number]> = kept.map((r) => [r, 0] as [Row, number]).reverse();
  while (walk.length > 0) {
    const [row, depth] = walk.pop()!;
    nodes.push(nodeJSON(row, depth, t0));
    for (let i = row.children.length - 1; i >= 0; i--) walk.push([row.children[i]!, depth + 1]);
  }
  const measured = (value: number): number | null => (Number.isFinite(value) ? round(value) : null);
  const clocks: TraceClockJSON[] = [...recorder.clocks].map(([context, clock]) => ({
    context,
    offsetMs: measured(clock.offsetMs),
    rttMs: measured(clock.rttMs),
    precisionMs: measured(clock.rttMs / 2),
  }));
  return {
    format: 'stream-weaver-trace',
    version: 1,
    context: recorder.context,
    startedAt: round(performance.timeOrigin + t0),
    durationMs: round(end - t0),
    clocks,
    droppedNodes: recorder.dropped,
    nodes,
  };
}

function byOrder(a: Row, b: Row): number {
  return a.node.order - b.node.order;
}

function aggregateInto(parent: Row, child: Row): void {
  parent.firstProduced = min(parent.firstProduced, child.firstProduced);
  parent.lastProduced = max(parent.lastProduced, child.lastProduced);
  parent.firstConsumed = min(parent.firstConsumed, child.firstConsumed);
  if (child.node.input) return; // read by the parent's code: what it made of it is counted in its other children
  if (parent.node.items === 0) parent.items += child.items;
  if (!Number.isNaN(child.bytes)) parent.bytes = Number.isNaN(parent.bytes) ? child.bytes : parent.bytes + child.bytes;
  if (parent.node.waitMs === 0) parent.waitMs += child.waitMs;
  if (child.node.outcome === 'error' || child.failedChild) parent.failedChild = true;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
const time = (ms: number, t0: number): number | null => (Number.isNaN(ms) ? null : round(ms - t0));

function nodeJSON(row: Row, depth: number, t0: number): TraceNodeJSON {
  const node = row.node;
  // A remote stream read by code rather than chained has only its producer's end.
  const ended = node.outcome === null && node.remote !== null && node.remote.outcome !== null;
  let outcome: TraceOutcome = node.outcome ?? node.remote?.outcome ?? 'open';
  // A sequence closed because a child failed failed with it (unless a boundary recovered: then it ended done).
  if (outcome === 'cancelled' && row.failedChild && (node.kind === 'sequence' || node.kind === 'conductor')) outcome = 'error';
  // A boundary's node failed where the boundary took over (drawn as recovered, not as a failure of the whole).
  if (node.recovered && outcome === 'cancelled') outcome = 'error';
  const waits: Array<[number, number]> = [];
  const w = node.waits ?? [];
  for (let i = 0; i + 1 < w.length; i += 2) waits.push([round(w[i]! - t0), round(w[i + 1]! - t0)]);
  const out: TraceNodeJSON = {
    id: node.id,
    parent: row.parent === null ? null : row.parent.node.id,
    depth,
    label: node.label,
    named: node.named,
    kind: node.kind,
    context: node.where(),
    // A remote stream was chained where it was produced, when its producer opened it (often before it is re-chained here).
    chained: time(node.remote === null ? node.chained : min(node.chained, peerToLocal(node.remote.clock, node.remote.opened)), t0),
    firstProduced: time(row.firstProduced, t0),
    lastProduced: time(row.lastProduced, t0),
    firstConsumed: time(row.firstConsumed, t0),
    done: ended ? time(peerToLocal(node.remote!.clock, node.remote!.done), t0) : time(node.done, t0),
    items: row.items,
    bytes: Number.isNaN(row.bytes) ? null : row.bytes,
    outcome,
    waitMs: round(row.waitMs),
    waits,
  };
  if (node.error !== null) out.error = node.error;
  if (node.input) out.input = true;
  if (node.recovered) out.recovered = true;
  const r = node.remote;
  if (r !== null) {
    const at = (peerTime: number): number | null => time(peerToLocal(r.clock, peerTime), t0);
    out.remote = {
      opened: at(r.opened),
      firstProduced: at(r.firstProduced),
      lastProduced: at(r.lastProduced),
      done: at(r.done),
      items: r.items,
      bytes: r.bytes,
      outcome: r.outcome ?? 'open',
    };
  }
  return out;
}
