/**
 * Plan tracing across the bridge (issue 9): one `BridgeTracing` per session.
 *
 * - Clock: every hello and welcome carries the sender's clock (`ck`), a welcome
 *   echoes the hello's (`ek`). Each answered hello is a round trip; the one
 *   with the shortest time gives the offset (peer minus local = the peer's
 *   time when it answered minus the middle of the round trip), within half
 *   that round trip. Each side also sends its estimate with its trace records,
 *   and the receiver keeps whichever came from the shorter round trip.
 * - Caller side: a call made while a trace runs is preceded by
 *   `{ t: 'trace', c }`; every stream that arrives while a trace runs gets a
 *   node (a child of whatever local node chains it), and the producer's
 *   records fill in its producer-side times, mapped onto the local clock.
 * - Callee side: the streams of a traced call's result, and every stream
 *   nested in them, are timed (one wrapper per stream, only when asked) and
 *   reported when they open and when they close, before their end or error frame.
 *
 * Nothing here runs per item unless the peer asked for a trace.
 *
 * @module
 */
import type { Frame, PathKey, StreamKind, TraceFrame, TraceOutcomeCode, TraceRecord } from './protocol.ts';
import { traceNodeOf } from './relay.ts';
import { isThenable, type Reader } from './sources.ts';
import { activeRecorder, labelOf, setPremade, type NodeKind, type PeerClock, type Recorder, type TraceNode } from './trace-core.ts';

/** The session's side of tracing: where frames go, and how the two contexts are named. */
export interface TracingHost {
  /** Queues a frame for the peer. */
  send(frame: Frame): void;
}

/** The windows a hello announces (a clock probe is a hello). */
export interface HelloWindows {
  windowItems: number;
  windowBytes: number;
  sessionBudgetBytes: number;
}

/** Names of the two contexts (SessionOptions.name / peerName). */
export interface TracingNames {
  /** This side's context name in the peer's traces. Default: `worker <threadId>` in a worker thread, `process <pid>` in Node, else `window`/`worker`. */
  name?: string;
  /** The peer's context name in this side's traces. Default: the name the peer reports. */
  peerName?: string;
}

/** The clock of this context on the wire: epoch ms with sub-ms precision, comparable across threads and machines (up to the wall clocks' offset, which the handshake measures). */
export function clockNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Default name of this context for its peers. */
export function defaultPeerName(): string {
  const g = globalThis as { process?: { pid?: number; getBuiltinModule?: (id: string) => unknown }; importScripts?: unknown; window?: unknown };
  const threads = g.process?.getBuiltinModule?.('node:worker_threads') as { isMainThread: boolean; threadId: number } | undefined;
  if (threads !== undefined) return threads.isMainThread ? `process ${g.process!.pid}` : `worker ${threads.threadId}`;
  if (typeof g.importScripts === 'function') return 'worker';
  return 'window';
}

const NODE_KINDS: Record<StreamKind, { kind: NodeKind; label: string }> = {
  it: { kind: 'generator', label: 'async iterable' },
  rs: { kind: 'stream', label: 'ReadableStream' },
  p: { kind: 'promise', label: 'promise' },
  seq: { kind: 'sequence', label: 'sequence' },
};

/** Clock probes per session per trace: the first traced calls each send one. */
const CLOCK_PROBES = 4;
/** Calls the peer asked to trace and that have not arrived yet: more are dropped (the trace misses them, nothing else does). */
const MAX_TRACED_CALLS = 1_024;
/** Incoming streams awaiting their producer's records: the oldest are forgotten past this. */
const MAX_AWAITED_RECORDS = 100_000;

/** An outgoing stream, as the serializer holds it. */
export interface TracedOutgoing {
  readonly id: number;
  readonly kind: StreamKind;
  reader: Reader<unknown> | null;
}

/** What opens traced child streams: a traced call's result, or a traced stream whose items hold streams. */
export interface TraceParent {
  /** Starts tracing `out` (found at `path` in the value), wrapping its reader. */
  child(out: TracedOutgoing, source: object, path: readonly PathKey[]): OutTrace;
}

/** A rough size of an item, for the byte counts of traced streams. */
function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'object': {
      if (value === null) return 8;
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
      let size = 16;
      const entries = Array.isArray(value) ? value : Object.values(value);
      for (let i = 0; i < entries.length && i < 64; i++) {
        const child = entries[i];
        size += typeof child === 'string' ? child.length + 2 : typeof child === 'object' && child !== null ? 16 : 8;
      }
      return size;
    }
    default:
      return 8;
  }
}

/** One traced outgoing stream on the producer's side. */
export class OutTrace implements TraceParent {
  private readonly opened = clockNow();
  private first = Number.NaN;
  private last = Number.NaN;
  private items = 0;
  private bytes = 0;
  private announced = false;
  private finished = false;

  constructor(
    private readonly bridge: BridgeTracing,
    private readonly out: TracedOutgoing,
    private readonly label: string | undefined,
  ) {
    // After the frame that announces the stream (queued when encode returns), so the peer knows its id.
    queueMicrotask(() => {
      if (this.announced || this.finished) return;
      this.announced = true;
      bridge.record(this.openFields());
    });
    const reader = out.reader;
    if (reader !== null) out.reader = this.wrap(reader);
  }

  private openFields(): TraceRecord {
    const record: TraceRecord = { s: this.out.id, k: this.out.kind, o: this.opened };
    if (this.label !== undefined) record.l = this.label;
    return record;
  }

  private readonly saw = (result: IteratorResult<unknown>): IteratorResult<unknown> => {
    if (result.done !== true) {
      const now = clockNow();
      if (this.items++ === 0) this.first = now;
      this.last = now;
      this.bytes += estimateBytes(result.value);
    }
    return result;
  };

  private wrap(reader: Reader<unknown>): Reader<unknown> {
    const saw = this.saw;
    return {
      sync: reader.sync,
      next() {
        const result = reader.next();
        return isThenable(result) ? result.then(saw) : saw(result);
      },
      close: (reason) => reader.close(reason),
    };
  }

  /** The stream ended, failed or was cancelled: its record goes out (before its end or error frame). */
  finish(outcome: TraceOutcomeCode): void {
    if (this.finished) return;
    this.finished = true;
    const done = clockNow();
    if (this.out.kind === 'p' && outcome === 'done') {
      this.items = 1;
      this.first = this.last = done;
    }
    const record: TraceRecord = this.announced ? { s: this.out.id } : this.openFields();
    this.announced = true;
    if (this.items > 0) {
      record.f = this.first;
      record.p = this.last;
    }
    record.d = done;
    record.n = this.items;
    record.b = this.bytes;
    record.e = outcome;
    this.bridge.record(record);
  }

  child(out: TracedOutgoing, source: object): OutTrace {
    return new OutTrace(this.bridge, out, labelOf(source));
  }
}

/** The result of a traced call: its streams are named after the method (and their path in the result). */
class CallTrace implements TraceParent {
  constructor(
    private readonly bridge: BridgeTracing,
    private readonly method: string,
  ) {}

  child(out: TracedOutgoing, source: object, path: readonly PathKey[]): OutTrace {
    const label = labelOf(source) ?? (path.length === 0 ? this.method : `${this.method}.${path.join('.')}`);
    return new OutTrace(this.bridge, out, label);
  }
}

/** One session's tracing state. */
export class BridgeTracing {
  /** Peer clock minus this clock, from the shortest round trip so far; shared with the nodes it maps. */
  readonly clock: PeerClock = { offsetMs: Number.NaN, rttMs: Number.POSITIVE_INFINITY };
  /** The trace this session last sent clock probes for, and how many: a few per session per trace. */
  private probedFor: Recorder | null = null;
  private probes = 0;
  /** The peer understands trace frames: its hello or welcome carried `ck`. */
  private peerTraces = false;
  /** A hello or welcome has arrived: whether the peer traces is known. */
  private handshaken = false;
  /** Traced calls made before the handshake: their requests go out when the peer turns out to trace. */
  private early: number[] = [];
  /** Calls the peer asked to trace (callee side). */
  private readonly tracedCalls = new Set<number>();
  /** Nodes of traced incoming streams, by stream id, awaiting their producer's records. */
  private readonly nodes = new Map<number, TraceNode>();
  /** The name the peer reports in its records. */
  private reported: string | undefined;
  private readonly selfName: string;

  constructor(
    private readonly host: TracingHost,
    private readonly names: TracingNames,
    private readonly windows: HelloWindows,
  ) {
    this.selfName = names.name ?? defaultPeerName();
  }

  /** The peer's name in this side's traces. */
  private peerName(): string {
    return this.names.peerName ?? this.reported ?? 'peer';
  }

  /** Fields of an outgoing welcome answering `hello`. */
  welcome(hello: { ck?: number }): { ck: number; ek?: number } {
    return hello.ck === undefined ? { ck: clockNow() } : { ck: clockNow(), ek: hello.ck };
  }

  /** A hello or welcome arrived: learn whether the peer traces, and sample the clock from a welcome's echo. */
  onHandshake(frame: { t: 'hello' | 'welcome'; ck?: number; ek?: number }, queue: Frame[]): void {
    if (frame.ck !== undefined) {
      this.peerTraces = true;
      if (frame.t === 'welcome' && frame.ek !== undefined) this.sample(frame.ck - (frame.ek + clockNow()) / 2, clockNow() - frame.ek);
    }
    if (this.handshaken) return;
    this.handshaken = true;
    // Requests for calls made before the handshake go ahead of everything queued (the calls among it).
    if (this.peerTraces && this.early.length > 0) queue.unshift(...this.early.map((c): Frame => ({ t: 'trace', c })));
    this.early = [];
  }

  private sample(offset: number, rtt: number): void {
    if (!(rtt >= 0) || rtt >= this.clock.rttMs) return;
    this.clock.rttMs = rtt;
    this.clock.offsetMs = offset;
  }

  /**
   * Caller side, before call `id` is queued: ask the peer to trace it when a
   * trace runs here. The first few traced calls of a trace also send a hello,
   * the probe every v1 peer answers with a welcome: round trips taken while
   * both sides are running (the handshake's may have waited on a worker
   * starting up), of which the shortest sets the offset.
   */
  beforeCall(id: number): void {
    const recorder = activeRecorder;
    if (recorder === null) return;
    if (this.peerTraces) {
      if (this.probedFor !== recorder) {
        this.probedFor = recorder;
        this.probes = 0;
      }
      if (this.probes++ < CLOCK_PROBES) {
        const w = this.windows;
        this.host.send({ t: 'hello', w: w.windowItems, wb: w.windowBytes, sb: w.sessionBudgetBytes, ck: clockNow() });
      }
      this.host.send({ t: 'trace', c: id });
    } else if (!this.handshaken) this.early.push(id);
  }

  /** Callee side: the trace parent of call `id`'s result, if the peer asked for one. */
  forCall(id: number, method: string): TraceParent | null {
    return this.tracedCalls.delete(id) ? new CallTrace(this, method) : null;
  }

  /** A trace frame arrived. */
  onFrame(frame: TraceFrame): void {
    if (frame.c !== undefined) {
      if (this.tracedCalls.size < MAX_TRACED_CALLS) this.tracedCalls.add(frame.c);
      return;
    }
    if (frame.x !== undefined) this.reported = frame.x;
    if (frame.o !== undefined && frame.r !== undefined) this.sample(-frame.o, frame.r);
    for (const record of frame.n ?? []) this.apply(record);
  }

  private apply(record: TraceRecord): void {
    const node = this.nodes.get(record.s);
    if (node === undefined) return;
    const context = this.peerName();
    node.context = context;
    node.recorder.clocks.set(context, this.clock);
    if (record.l !== undefined && !node.named) node.name(record.l);
    const nan = Number.NaN;
    const remote = (node.remote ??= { clock: this.clock, opened: nan, firstProduced: nan, lastProduced: nan, done: nan, items: 0, bytes: 0, outcome: null });
    // Kept on the peer's clock: mapped when the trace is exported, with the best estimate by then.
    if (record.o !== undefined) remote.opened = record.o;
    if (record.f !== undefined) remote.firstProduced = record.f;
    if (record.p !== undefined) remote.lastProduced = record.p;
    if (record.d !== undefined) remote.done = record.d;
    if (record.n !== undefined) remote.items = record.n;
    if (record.b !== undefined) remote.bytes = record.b;
    if (record.e !== undefined) {
      remote.outcome = record.e;
      this.nodes.delete(record.s); // the close record is the last one
    }
  }

  /** Producer side: sends one record, with this side's name and clock estimate. */
  record(record: TraceRecord): void {
    const frame: TraceFrame = { t: 'trace', n: [record], x: this.selfName };
    if (!Number.isNaN(this.clock.offsetMs)) {
      frame.o = this.clock.offsetMs;
      frame.r = this.clock.rttMs;
    }
    this.host.send(frame);
  }

  /**
   * Consumer side: a stream arrived as `local`. While a trace runs it gets a
   * node now (a remote sequence's is its local sequence's), so whatever chains
   * it adopts the node and the producer's records find it.
   */
  readonly incoming = (local: unknown, kind: StreamKind, id: number): void => {
    const recorder = activeRecorder;
    if (recorder === null) return;
    let node = kind === 'seq' ? traceNodeOf(local) : null;
    if (node === null) {
      node = recorder.node(NODE_KINDS[kind].kind, NODE_KINDS[kind].label);
      if (node === null) return;
      setPremade(local as object, node);
    }
    node.context = this.peerName();
    node.mirror = true;
    if (this.nodes.size >= MAX_AWAITED_RECORDS) this.nodes.delete(this.nodes.keys().next().value!);
    this.nodes.set(id, node);
  };

  /** The session closed: records still awaited will not come. */
  close(): void {
    this.nodes.clear();
    this.tracedCalls.clear();
    this.early = [];
  }
}
