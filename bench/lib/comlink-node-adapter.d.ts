// Comlink 4.4.2 ships its Node adapter at `comlink/dist/esm/node-adapter.mjs`
// without types that NodeNext resolution finds (it looks for a `.d.mts`).
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  /** What Node's `MessagePort` and `Worker` offer: EventEmitter-style messaging. */
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: unknown[]): void;
    on(type: string, listener: (...args: never[]) => unknown, options?: object): unknown;
    off(type: string, listener: (...args: never[]) => unknown, options?: object): unknown;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
