/**
 * stream-weaver: ChainExplode for TypeScript. The public face; it only re-exports.
 *
 * @module
 */
export {
  asyncIterableSequencer,
  SequenceEndedError,
  SEQUENCE_BRAND,
  isAnyIterable,
  isReadableStream,
  type AnyIterable,
  type Chainable,
  type Chain,
  type AsyncIterableSequencerReturn,
} from './sequencer.ts';
export type { Endpoint, EndpointListener, EndpointMessageEvent } from './endpoint.ts';
export {
  StreamWeaverError,
  ProtocolError,
  ConnectionClosedError,
  LimitExceededError,
  StreamCancelledError,
  SerializationError,
  VersionMismatchError,
  PeerTimeoutError,
} from './errors.ts';
export { DEFAULT_LIMITS, DEFAULT_FLOW, type BridgeLimits, type FlowOptions } from './limits.ts';
export {
  PROTOCOL_VERSION,
  decodeFrame,
  decodeMessage,
  type Frame,
  type WireMessage,
  type Ref,
  type StreamKind,
  type EncodedError,
} from './protocol.ts';
export {
  structuredCloneCodec,
  jsonCodec,
  superjsonCodec,
  defaultTextCodec,
  type Codec,
  type SuperjsonCodecOptions,
  type RegisteredClass,
} from './codec.ts';
export {
  Session,
  DEFAULT_PEER_TIMEOUT_MS,
  expose,
  wrap,
  sessionOf,
  type SessionOptions,
  type CallContext,
  type SessionStats,
  type Remote,
} from './session.ts';
export {
  ConductorStream,
  DelegateStream,
  toReadableStream,
  type ConductorStreamOptions,
  type DelegateStreamOptions,
} from './conductor.ts';
export { memoryEndpointPair, type MemoryEndpoint, type MemoryEndpointOptions } from './memory.ts';
export {
  SerializerConductor,
  DeserializerConductor,
  type SerializerConductorOptions,
  type DeserializerConductorOptions,
} from './wire-streams.ts';
export { explode, explodeStream, merge, type Content, type Expand, type ExplodeContext } from './weaver.ts';
export {
  fallbackSequencer,
  errorBoundary,
  type FallbackOptions,
  type ChainWithFallbackOptions,
  type FallbackSequencerReturn,
} from './fallback.ts';
export {
  startTrace,
  traceLabel,
  planPathOf,
  traceToHtml,
  defaultContextName,
  Tracer,
  DEFAULT_TRACE_OPTIONS,
  type TraceOptions,
  type TraceHtmlOptions,
  type Trace,
  type TraceNodeJSON,
  type TraceClockJSON,
  type TraceOutcome,
  type NodeKind,
} from './trace.ts';
export type { ChainOptions } from './sources.ts';
export type { ExplodeOptions } from './weaver.ts';
