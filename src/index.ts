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
