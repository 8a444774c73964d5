/**
 * The wire: versioned messages carrying batches of string-tagged frames, and
 * their validation. Small and dependency-free on purpose: peers over sockets
 * and iframes are deployed separately, so everything here is checked.
 *
 * Stream ids are allocated by the side that produces the stream. The two
 * directions are separate id spaces (frames from a producer name its own ids,
 * frames from a consumer name the peer's), so both sides open streams without
 * a round trip and never collide. Call ids work the same way.
 *
 * @module
 */
import { LimitExceededError, ProtocolError, VersionMismatchError } from './errors.ts';
import type { BridgeLimits } from './limits.ts';

/**
 * The protocol version this build speaks. A peer with another one is refused at the handshake.
 *
 * @example
 * ```ts
 * const message: WireMessage = { v: PROTOCOL_VERSION, f: [{ t: 'end', s: 1 }] };
 * ```
 */
export const PROTOCOL_VERSION = 1;

/** A key on the path from a value's root to a nested stream. */
export type PathKey = string | number;

/**
 * How a nested stream crosses: `it` async (or sync) iterable, `rs` ReadableStream,
 * `p` promise (one item or an error), `seq` a sequencer's chain of sub-iterables.
 *
 * @example
 * ```ts
 * const kind: StreamKind = 'rs'; // a ReadableStream
 * ```
 */
export type StreamKind = 'it' | 'rs' | 'p' | 'seq';

/**
 * A nested stream inside a value: its path from the value's root, its kind and its id.
 *
 * @example
 * ```ts
 * const ref: Ref = [['sections', 0], 'it', 3]; // value.sections[0] is async iterable #3
 * ```
 */
export type Ref = [path: PathKey[], kind: StreamKind, id: number];

/**
 * An error as it crosses: name, message, stack, cause, members, own properties; or a thrown non-Error value.
 *
 * @example
 * ```ts
 * const e: EncodedError = { n: 'TypeError', m: 'bad input', p: { code: 'E_INPUT' } };
 * const thrown: EncodedError = { x: 42 }; // `throw 42`
 * ```
 */
export interface EncodedError {
  /** `name` of the error; revived through an allowlist and the codec's registry. */
  n?: string;
  /** `message`. */
  m?: string;
  /** `stack`, only when the session's policy keeps stacks. */
  s?: string;
  /** `cause`, encoded the same way. */
  c?: EncodedError;
  /** `errors` of an AggregateError. */
  a?: EncodedError[];
  /** Own enumerable properties (`code`, ...), as plain data. */
  p?: Record<string, unknown>;
  /** A thrown value that was not an Error. */
  x?: unknown;
}

/**
 * Both sides send one at start (repeated until answered) with the windows they
 * grant as a consumer. Sent again after the handshake it is a liveness probe
 * (`peerTimeoutMs`): the peer answers with a welcome, whose windows are ignored.
 * Optional `ck` (plan tracing, issue 9): the sender's clock when it sent it
 * (epoch ms, `performance.timeOrigin + performance.now()`); a hello or welcome
 * with `ck` also says that its sender understands `trace` frames.
 */
export interface HelloFrame { t: 'hello'; w: number; wb: number; sb: number; ck?: number }
/**
 * The answer to a hello, with the same fields. After either, frames flow.
 * Optional `ek` echoes the answered hello's `ck`: with the welcome's own `ck`,
 * the hello's sender measures the round trip and the peer's clock offset.
 */
export interface WelcomeFrame { t: 'welcome'; w: number; wb: number; sb: number; ck?: number; ek?: number }
/** Caller -> callee: run method `m` with arguments `a` (nested streams listed in `r`, paths start at the argument index). */
export interface CallFrame { t: 'call'; id: number; m: string; a: unknown[]; r?: Ref[] }
/** Callee -> caller: call `id` returned `p` (nested streams in `r`). */
export interface ResultFrame { t: 'result'; id: number; p: unknown; r?: Ref[] }
/** Callee -> caller: call `id` threw `e`. */
export interface FailFrame { t: 'fail'; id: number; e: EncodedError }
/**
 * Producer -> consumer: items of stream `s`, in order, within the credit the
 * consumer granted. `r` lists `[index, refs]` for items with nested streams,
 * `b` their estimated bytes. Optional `k: 1` says the producer's credit ran
 * out with these items (another like the last would not fit). A consumer
 * that reads them all and then has to wait on the stream knows the window
 * was used up and still did not cover the round trip, and may grow it
 * (`pull.gn` / `pull.gb`). Peers that ignore it lose nothing.
 */
export interface ItemsFrame { t: 'items'; s: number; p: unknown[]; r?: Array<[number, Ref[]]>; b: number; k?: 1 }
/** Producer -> consumer: stream `s` ended normally. */
export interface EndFrame { t: 'end'; s: number }
/** Producer -> consumer: stream `s` failed with `e`. */
export interface ErrorFrame { t: 'error'; s: number; e: EncodedError }
/**
 * Consumer -> producer: grant `n` more items and `b` more bytes on stream `s`
 * (and return `b` bytes to the session budget). `a: 1` marks the stream the
 * consumer is waiting on now: it may go past the session budget. Optional
 * `gn` / `gb` grow the stream's window by that many items / bytes (granted
 * at once as extra credit; they return nothing to the session budget).
 */
export interface PullFrame { t: 'pull'; s: number; n: number; b: number; a?: 1; gn?: number; gb?: number }
/** Consumer -> producer: stop stream `s`; its producer's `return()` runs. */
export interface CancelFrame { t: 'cancel'; s: number }
/** Either side: the session is over (`e` says why, when it failed). */
export interface ByeFrame { t: 'bye'; e?: EncodedError }

/** How a traced stream ended on its producer's side. */
export type TraceOutcomeCode = 'done' | 'error' | 'cancelled';

/**
 * One traced outgoing stream, from its producer: sent when the stream opens
 * (`l` its label when it has one, `k` its kind, `o` when it opened) and when
 * it closes (`f`/`p` first and last item produced, `d` done, `n` items, `b`
 * estimated bytes, `e` how it ended). Times are on the sender's clock (epoch ms).
 */
export interface TraceRecord {
  s: number;
  l?: string;
  k?: StreamKind;
  o?: number;
  f?: number;
  p?: number;
  d?: number;
  n?: number;
  b?: number;
  e?: TraceOutcomeCode;
}

/**
 * Optional (plan tracing, issue 9), sent only to a peer whose hello or welcome
 * carried `ck` (an older peer would refuse the tag). Exactly one of:
 * - caller -> callee, queued just before call `c`: `{ t: 'trace', c }` asks for
 *   the producer's side of every stream of that call's result, nested ones included;
 * - producer -> consumer: `{ t: 'trace', n, x, o, r }`, records `n` of traced
 *   streams it sends, `x` its context name, and its best clock estimate:
 *   `o` the receiver's clock minus its own (ms), from a round trip of `r` ms.
 */
export interface TraceFrame { t: 'trace'; c?: number; n?: TraceRecord[]; x?: string; o?: number; r?: number }

/** Most records in one trace frame. */
export const MAX_TRACE_RECORDS = 256;

/**
 * Every frame of protocol v1.
 *
 * @example
 * ```ts
 * const frame: Frame = { t: 'pull', s: 1, n: 64, b: 65_536 };
 * if (frame.t === 'pull') console.log(frame.n);
 * ```
 */
export type Frame =
  | HelloFrame
  | WelcomeFrame
  | CallFrame
  | ResultFrame
  | FailFrame
  | ItemsFrame
  | EndFrame
  | ErrorFrame
  | PullFrame
  | CancelFrame
  | ByeFrame
  | TraceFrame;

/**
 * One message on the endpoint: the version and a batch of frames.
 *
 * @example
 * ```ts
 * const message: WireMessage = { v: PROTOCOL_VERSION, f: [{ t: 'cancel', s: 2 }] };
 * ```
 */
export interface WireMessage { v: number; f: Frame[] }

/** Keys that could reach a prototype when a path is followed. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const KINDS = new Set<unknown>(['it', 'rs', 'p', 'seq']);
const TRACE_OUTCOMES = new Set<unknown>(['done', 'error', 'cancelled']);

function fail(message: string): never {
  throw new ProtocolError(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkId(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${what} must be a non-negative integer`);
  return value;
}

function checkCount(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    fail(`${what} must be a finite non-negative number`);
  }
}

/** Validates a stream reference list: paths within depth, no prototype keys, known kinds. */
export function checkRefs(refs: unknown, limits: BridgeLimits): Ref[] {
  if (!Array.isArray(refs)) fail('refs must be an array');
  for (const ref of refs) {
    if (!Array.isArray(ref) || ref.length !== 3) fail('a ref must be [path, kind, id]');
    const [path, kind, id] = ref as unknown[];
    if (!Array.isArray(path)) fail('a ref path must be an array');
    // A limit like the serializer's own maxDepth, so it fails as one (found by test/node/fuzz.test.ts).
    if (path.length > limits.maxDepth) throw new LimitExceededError('maxDepth', path.length, limits.maxDepth);
    for (const key of path) {
      if (typeof key === 'number') {
        if (!Number.isSafeInteger(key) || key < 0) fail('a ref path index must be a non-negative integer');
      } else if (typeof key !== 'string' || FORBIDDEN_KEYS.has(key)) {
        fail(`forbidden or malformed key in a ref path: ${String(key)}`);
      }
    }
    if (!KINDS.has(kind)) fail(`unknown stream kind ${String(kind)}`);
    checkId(id, 'a ref id');
  }
  return refs as Ref[];
}

function checkError(value: unknown): void {
  if (!isRecord(value)) fail('an encoded error must be an object');
}

/** An optional clock reading: a finite number of ms. */
function checkTime(value: unknown, what: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) fail(`${what} must be a finite number`);
}

function checkText(value: unknown, max: number, what: string): void {
  if (value !== undefined && (typeof value !== 'string' || value.length > max)) fail(`${what} must be a string of at most ${max} characters`);
}

/** Validates a trace frame: a request (`c`) or records (`n`), never both. */
function checkTrace(raw: Record<string, unknown>): void {
  if ((raw.c === undefined) === (raw.n === undefined)) fail('a trace frame carries exactly one of c and n');
  if (raw.c !== undefined) return void checkId(raw.c, 'trace.c');
  const records = raw.n;
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_TRACE_RECORDS) {
    fail(`trace.n must be an array of 1 to ${MAX_TRACE_RECORDS} records`);
  }
  checkText(raw.x, 128, 'trace.x');
  checkTime(raw.o, 'trace.o');
  if (raw.r !== undefined) checkCount(raw.r, 'trace.r');
  for (const record of records) {
    if (!isRecord(record)) fail('a trace record must be an object');
    checkId(record.s, 'trace record s');
    checkText(record.l, 256, 'trace record l');
    if (record.k !== undefined && !KINDS.has(record.k)) fail(`unknown stream kind ${String(record.k)}`);
    for (const key of ['o', 'f', 'p', 'd'] as const) checkTime(record[key], `trace record ${key}`);
    if (record.n !== undefined) checkCount(record.n, 'trace record n');
    if (record.b !== undefined) checkCount(record.b, 'trace record b');
    if (record.e !== undefined && !TRACE_OUTCOMES.has(record.e)) fail(`unknown trace outcome ${String(record.e)}`);
  }
}

/**
 * Validates one frame in place and returns it typed; throws `ProtocolError` on anything malformed.
 *
 * @example
 * ```ts
 * const frame = decodeFrame({ t: 'end', s: 1 }, DEFAULT_LIMITS); // { t: 'end', s: 1 }
 * decodeFrame({ t: 'nope' }, DEFAULT_LIMITS); // throws ProtocolError
 * ```
 */
export function decodeFrame(raw: unknown, limits: BridgeLimits): Frame {
  if (!isRecord(raw) || typeof raw.t !== 'string') fail('a frame must be an object with a string tag');
  switch (raw.t) {
    case 'hello':
    case 'welcome':
      checkCount(raw.w, 'hello.w');
      checkCount(raw.wb, 'hello.wb');
      checkCount(raw.sb, 'hello.sb');
      checkTime(raw.ck, `${raw.t}.ck`);
      if (raw.t === 'welcome') checkTime(raw.ek, 'welcome.ek');
      else if (raw.ek !== undefined) fail('hello.ek is only for a welcome');
      break;
    case 'call':
      checkId(raw.id, 'call.id');
      if (typeof raw.m !== 'string' || raw.m.length > 256) fail('call.m must be a method name');
      if (!Array.isArray(raw.a)) fail('call.a must be an array');
      if (raw.r !== undefined) checkRefs(raw.r, limits);
      break;
    case 'result':
      checkId(raw.id, 'result.id');
      if (raw.r !== undefined) checkRefs(raw.r, limits);
      break;
    case 'fail':
      checkId(raw.id, 'fail.id');
      checkError(raw.e);
      break;
    case 'items':
      checkId(raw.s, 'items.s');
      if (!Array.isArray(raw.p) || raw.p.length === 0) fail('items.p must be a non-empty array');
      checkCount(raw.b, 'items.b');
      if (raw.k !== undefined && raw.k !== 1) fail('items.k must be 1 when present');
      if (raw.r !== undefined) {
        if (!Array.isArray(raw.r)) fail('items.r must be an array');
        for (const entry of raw.r) {
          if (!Array.isArray(entry) || entry.length !== 2) fail('items.r entries must be [index, refs]');
          const index = checkId(entry[0], 'items.r index');
          if (index >= raw.p.length) fail('items.r index out of range');
          checkRefs(entry[1], limits);
        }
      }
      break;
    case 'end':
    case 'cancel':
      checkId(raw.s, `${raw.t}.s`);
      break;
    case 'error':
      checkId(raw.s, 'error.s');
      checkError(raw.e);
      break;
    case 'pull':
      checkId(raw.s, 'pull.s');
      checkCount(raw.n, 'pull.n');
      checkCount(raw.b, 'pull.b');
      if (raw.gn !== undefined) checkCount(raw.gn, 'pull.gn');
      if (raw.gb !== undefined) checkCount(raw.gb, 'pull.gb');
      break;
    case 'bye':
      if (raw.e !== undefined) checkError(raw.e);
      break;
    case 'trace':
      checkTrace(raw);
      break;
    default:
      fail(`unknown frame tag ${JSON.stringify(raw.t).slice(0, 40)}`);
  }
  return raw as unknown as Frame;
}

/**
 * Validates a whole message: our envelope, the version, the batch size and
 * every frame. Throws `VersionMismatchError` for another version of this
 * protocol, `LimitExceededError` past `maxFramesPerMessage` or a ref path
 * deeper than `maxDepth`, and `ProtocolError` for anything else.
 *
 * @example
 * ```ts
 * const message = decodeMessage(JSON.parse(text), DEFAULT_LIMITS);
 * for (const frame of message.f) console.log(frame.t);
 * ```
 */
export function decodeMessage(raw: unknown, limits: BridgeLimits): WireMessage {
  if (!isRecord(raw) || !Array.isArray(raw.f)) fail('a message must be an object { v, f: Frame[] }');
  if (raw.v !== PROTOCOL_VERSION) throw new VersionMismatchError(PROTOCOL_VERSION, raw.v);
  // Past a configured limit is a LimitExceededError, as limits.ts promises (found by test/node/fuzz.test.ts).
  if (raw.f.length > limits.maxFramesPerMessage) {
    throw new LimitExceededError('maxFramesPerMessage', raw.f.length, limits.maxFramesPerMessage);
  }
  for (const frame of raw.f) decodeFrame(frame, limits);
  return raw as unknown as WireMessage;
}
