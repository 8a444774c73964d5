/**
 * Codecs turn wire messages into what an endpoint carries: structured clone
 * for postMessage (ArrayBuffers transferred), superjson or JSON for text wires.
 * Errors get their own encoding so that name, message, cause, AggregateError
 * members and own properties survive every codec, and are revived through an
 * allowlist (never by looking names up on `globalThis`).
 *
 * @module
 */
import { SuperJSON } from 'superjson';
import {
  ConnectionClosedError,
  LimitExceededError,
  ProtocolError,
  SerializationError,
  StreamCancelledError,
  VersionMismatchError,
} from './errors.ts';
import type { EncodedError, WireMessage } from './protocol.ts';

/**
 * Turns a wire message into endpoint data and back.
 *
 * @example
 * ```ts
 * const codec: Codec = jsonCodec;
 * const text = codec.encode({ v: PROTOCOL_VERSION, f: [] }); // '{"v":1,"f":[]}'
 * ```
 */
export interface Codec {
  /** `'clone'` for postMessage endpoints, `'text'` for string-only wires. */
  readonly wire: 'clone' | 'text';
  /** Encodes a message; `transfer` is passed through on clone wires. */
  encode(message: WireMessage): unknown;
  /** Decodes what arrived; throws on malformed input (the session turns that into a ProtocolError). */
  decode(data: unknown, maxBytes: number): unknown;
}

/**
 * Structured clone: the message object itself crosses postMessage.
 *
 * @example
 * ```ts
 * expose(handlers, parentPortEndpoint(), { codec: structuredCloneCodec });
 * ```
 */
export const structuredCloneCodec: Codec = Object.freeze({
  wire: 'clone' as const,
  encode: (message: WireMessage) => message,
  decode: (data: unknown) => data,
});

/**
 * Plain JSON over text: the fastest text codec, for plain values (no Date, Map, BigInt...).
 *
 * @example
 * ```ts
 * const remote = wrap<typeof handlers>(webSocketEndpoint(socket), { codec: jsonCodec });
 * ```
 */
export const jsonCodec: Codec = Object.freeze({
  wire: 'text' as const,
  encode: (message: WireMessage) => JSON.stringify(message),
  decode: (data: unknown, maxBytes: number) => JSON.parse(checkText(data, maxBytes)) as unknown,
});

function checkText(data: unknown, maxBytes: number): string {
  if (typeof data !== 'string') throw new ProtocolError(`a text wire carried ${typeof data}, not a string`);
  // A UTF-16 length over the limit is over it in UTF-8 too, for all but surrogate-heavy text.
  if (data.length > maxBytes) throw new LimitExceededError('maxFrameBytes', data.length, maxBytes);
  return data;
}

/**
 * A class the codecs may revive by name: errors across every codec, other classes over superjson.
 *
 * @example
 * ```ts
 * class QuotaError extends Error {}
 * const classes: RegisteredClass[] = [QuotaError];
 * expose(handlers, endpoint, { errorClasses: classes });
 * ```
 */
export type RegisteredClass = new (...args: never[]) => unknown;

/**
 * Options for {@link superjsonCodec}.
 *
 * @example
 * ```ts
 * const options: SuperjsonCodecOptions = { classes: [Point] };
 * const codec = superjsonCodec(options);
 * ```
 */
export interface SuperjsonCodecOptions {
  /** Classes to send and revive as themselves (superjson's `registerClass`), keyed by their name. */
  classes?: RegisteredClass[];
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * superjson over text: Date, Map, Set, BigInt, RegExp, undefined, Error,
 * Uint8Array and ArrayBuffer (base64), and registered classes survive.
 *
 * @example
 * ```ts
 * const codec = superjsonCodec({ classes: [Point] });
 * expose(handlers, webSocketEndpoint(socket), { codec });
 * ```
 */
export function superjsonCodec(options: SuperjsonCodecOptions = {}): Codec {
  const sj = new SuperJSON();
  sj.registerCustom<Uint8Array, string>(
    { isApplicable: (v): v is Uint8Array => v instanceof Uint8Array, serialize: base64, deserialize: fromBase64 },
    'u8',
  );
  sj.registerCustom<ArrayBuffer, string>(
    {
      isApplicable: (v): v is ArrayBuffer => v instanceof ArrayBuffer,
      serialize: (v) => base64(new Uint8Array(v)),
      deserialize: (v) => fromBase64(v).buffer as ArrayBuffer,
    },
    'ab',
  );
  for (const cls of options.classes ?? []) sj.registerClass(cls as never, cls.name);
  return {
    wire: 'text',
    encode: (message) => sj.stringify(message),
    decode: (data, maxBytes) => sj.parse(checkText(data, maxBytes)),
  };
}

/**
 * The default text codec: superjson with no registered classes.
 *
 * @example
 * ```ts
 * const text = defaultTextCodec.encode({ v: PROTOCOL_VERSION, f: [] }) as string;
 * const message = defaultTextCodec.decode(text, DEFAULT_LIMITS.maxFrameBytes);
 * ```
 */
export const defaultTextCodec: Codec = superjsonCodec();

/** Error classes revived by name: a null-prototype allowlist, so `__proto__` or `toString` never match. */
const BUILTIN_ERRORS: Record<string, new (message?: string) => Error> = Object.assign(Object.create(null), {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
});

const BRIDGE_ERRORS: Record<string, (message: string) => Error> = Object.assign(Object.create(null), {
  ProtocolError: (m: string) => new ProtocolError(m),
  ConnectionClosedError: (m: string) => new ConnectionClosedError(m),
  StreamCancelledError: (m: string) => new StreamCancelledError(m),
  SerializationError: (m: string) => new SerializationError(m),
  LimitExceededError: (m: string) => Object.assign(new LimitExceededError('limit', 0, 0), { message: m }),
  VersionMismatchError: (m: string) => Object.assign(new VersionMismatchError(0, 0), { message: m }),
});

const SKIPPED_PROPS = new Set(['name', 'message', 'stack', 'cause', 'errors', '__proto__', 'constructor', 'prototype']);
const MAX_ERROR_DEPTH = 8;

/** How errors cross: whether stacks are kept, and which custom classes revive as themselves. */
export interface ErrorPolicy {
  /** Keep `stack` (default over postMessage); redact it for untrusted peers (default over sockets). */
  keepStacks: boolean;
  /** Custom error classes, revived by `name` with their prototype. */
  classes: ReadonlyMap<string, RegisteredClass>;
}

function plainProps(error: object): Record<string, unknown> | undefined {
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(error)) {
    if (SKIPPED_PROPS.has(key)) continue;
    const value = (error as Record<string, unknown>)[key];
    if (typeof value === 'function' || typeof value === 'symbol') continue;
    (props ??= {})[key] = value;
  }
  return props;
}

/** Encodes a thrown value: an Error's fields, or the value itself. */
export function encodeError(error: unknown, policy: ErrorPolicy, depth = 0): EncodedError {
  if (!(error instanceof Error)) {
    return { x: typeof error === 'function' || typeof error === 'symbol' ? String(error) : error };
  }
  const out: EncodedError = { n: error.name, m: error.message };
  if (policy.keepStacks && typeof error.stack === 'string') out.s = error.stack;
  if (depth < MAX_ERROR_DEPTH) {
    if ('cause' in error && error.cause !== undefined) out.c = encodeError(error.cause, policy, depth + 1);
    if (error instanceof AggregateError && Array.isArray(error.errors)) {
      out.a = error.errors.map((e: unknown) => encodeError(e, policy, depth + 1));
    }
  }
  const props = plainProps(error);
  if (props !== undefined) out.p = props;
  return out;
}

function makeError(name: string, message: string, policy: ErrorPolicy, members: unknown[] | undefined): Error {
  const custom = policy.classes.get(name);
  if (custom !== undefined) {
    const error = Object.create(custom.prototype as object) as Error;
    Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true });
    return error;
  }
  if (members !== undefined || name === 'AggregateError') return new AggregateError(members ?? [], message);
  const bridge = BRIDGE_ERRORS[name];
  if (bridge !== undefined) return bridge(message);
  const Builtin = BUILTIN_ERRORS[name] ?? Error;
  const error = new Builtin(message);
  // An unknown name is kept as the name of a plain Error, so logs still say what it was.
  if (error.name !== name) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true });
  return error;
}

/** Revives an encoded error; unknown shapes become plain Errors, never a crash. */
export function decodeError(encoded: EncodedError, policy: ErrorPolicy, depth = 0): unknown {
  if (typeof encoded !== 'object' || encoded === null) return new Error(String(encoded));
  if ('x' in encoded) return encoded.x;
  const name = typeof encoded.n === 'string' ? encoded.n : 'Error';
  const message = typeof encoded.m === 'string' ? encoded.m : '';
  const members =
    Array.isArray(encoded.a) && depth < MAX_ERROR_DEPTH ? encoded.a.map((e) => decodeError(e, policy, depth + 1)) : undefined;
  const error = makeError(name, message, policy, members);
  if (typeof encoded.s === 'string') Object.defineProperty(error, 'stack', { value: encoded.s, writable: true, configurable: true });
  else Object.defineProperty(error, 'stack', { value: `${name}: ${message}\n    at <remote>`, writable: true, configurable: true });
  if (encoded.c !== undefined && depth < MAX_ERROR_DEPTH) {
    Object.defineProperty(error, 'cause', { value: decodeError(encoded.c, policy, depth + 1), writable: true, configurable: true });
  }
  if (typeof encoded.p === 'object' && encoded.p !== null) {
    for (const key of Object.keys(encoded.p)) {
      if (SKIPPED_PROPS.has(key)) continue;
      Object.defineProperty(error, key, { value: encoded.p[key], writable: true, enumerable: true, configurable: true });
    }
  }
  return error;
}
