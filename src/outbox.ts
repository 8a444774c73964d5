/**
 * The session's outgoing side: frames batched into messages. Small items never
 * cost a postMessage each; a batch leaves when it is full (items or bytes),
 * when a reader is waiting on it, or at the end of the macrotask.
 *
 * @module
 */
import { afterIo } from './after-io.ts';
import type { Frame, Ref } from './protocol.ts';

/** What the outbox needs of its session. */
export interface OutboxHost {
  /** The handshake is done: frames may leave. */
  isOpen(): boolean;
  /** The session is over: frames are dropped. */
  isClosed(): boolean;
  /** Encodes and posts one message; throws when the codec or transport refuses it. */
  post(frames: Frame[], transfer?: Transferable[]): void;
  /** A frame refused even when sent alone; returns false when the session gave up. */
  refused(frame: Frame, error: unknown): boolean;
}


/** Batches a session's outgoing frames into messages. */
export class Outbox {
  /** Frames of the next message (tracing may put requests at its front). */
  queue: Frame[] = [];
  /** Buffers to move with the next message. */
  private transfer: Transferable[] = [];
  private batchItems = 0;
  /** Estimated bytes in the batch being built. */
  private batchBytes = 0;
  /**
   * Items after which a batch leaves at once: `maxBatchItems`, capped at half
   * the peer's window so that at least two messages are in flight (one
   * window-sized message makes the two sides take turns instead of overlapping).
   */
  private batchLimit: number;
  /** Bytes after which a batch leaves at once: a quarter of the peer's byte window, so large items pipeline too. */
  private batchByteLimit = Infinity;
  private flushScheduled = false;
  private microFlushScheduled = false;

  constructor(
    private readonly host: OutboxHost,
    private readonly maxBatchItems: number,
    /** The peer refuses more frames than this in one message (its hello does not say; ours stands in). */
    private readonly maxFramesPerMessage: number,
  ) {
    this.batchLimit = maxBatchItems;
  }

  /** The handshake told the peer's windows: size batches to them and send what waited. */
  setPeerWindows(items: number, bytes: number): void {
    this.batchLimit = Math.max(1, Math.min(this.maxBatchItems, Math.floor(items / 2)));
    this.batchByteLimit = Math.max(1, Math.floor(bytes / 4));
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /** Queues a frame; `urgent` sends the batch now. */
  send(frame: Frame, urgent = false): void {
    if (this.host.isClosed()) return;
    this.queue.push(frame);
    if (urgent && this.host.isOpen()) this.flush();
    else this.scheduleFlush();
  }

  /**
   * Queues a frame a waiting peer needs now (a call, a result): it leaves at
   * this microtask checkpoint ({@link flushSoon}), with whatever else was queued.
   */
  sendSoon(frame: Frame): void {
    if (this.host.isClosed()) return;
    this.queue.push(frame);
    this.flushSoon();
  }

  /**
   * Queues one item of stream `s`, merged into the batch's last `items` frame
   * when it is the same stream's. `stalled`: the stream's credit ran out with
   * this item; the frame says so (`k`) and leaves now, as nothing more of it can follow.
   */
  sendItem(s: number, data: unknown, refs: Ref[] | undefined, bytes: number, transfer: Transferable[] | undefined, urgent = false, stalled = false): void {
    if (this.host.isClosed()) return;
    const last = this.queue[this.queue.length - 1];
    let frame = last !== undefined && last.t === 'items' && last.s === s ? last : undefined;
    if (frame === undefined) {
      frame = { t: 'items', s, p: [], b: 0 };
      this.queue.push(frame);
    }
    if (refs !== undefined) (frame.r ??= []).push([frame.p.length, refs]);
    frame.p.push(data);
    frame.b += bytes;
    this.addTransfer(transfer);
    this.batchBytes += bytes;
    if (stalled) frame.k = 1;
    const full = ++this.batchItems >= this.batchLimit || this.batchBytes >= this.batchByteLimit;
    if ((urgent || full || stalled) && this.host.isOpen()) this.flush();
    else this.scheduleFlush();
  }

  /** Buffers to move with the next message (each once). */
  addTransfer(transfer: Transferable[] | undefined): void {
    if (transfer !== undefined) for (const t of transfer) if (!this.transfer.includes(t)) this.transfer.push(t);
  }

  /**
   * Flushes at the end of this microtask checkpoint: for calls and results,
   * which a waiting peer needs now, while calls made in one synchronous loop
   * still share a message.
   */
  flushSoon(): void {
    if (this.microFlushScheduled || !this.host.isOpen()) return;
    this.microFlushScheduled = true;
    queueMicrotask(() => {
      this.microFlushScheduled = false;
      this.flush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.host.isOpen()) return;
    this.flushScheduled = true;
    afterIo(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Sends the batch now (split at `maxFramesPerMessage`). */
  flush(): void {
    if (!this.host.isOpen() || this.queue.length === 0) return;
    const frames = this.queue;
    const transfer = this.transfer;
    this.queue = [];
    this.transfer = [];
    this.batchItems = 0;
    this.batchBytes = 0;
    const max = this.maxFramesPerMessage;
    let sent = 0;
    try {
      if (frames.length <= max) this.host.post(frames, transfer);
      else {
        // Buffers move with the last part, so earlier parts that hold them copy instead of finding them detached.
        for (; sent < frames.length; sent += max) this.host.post(frames.slice(sent, sent + max), sent + max >= frames.length ? transfer : []);
      }
    } catch {
      this.recover(sent === 0 ? frames : frames.slice(sent));
    }
  }

  /** A batch failed to encode (a value the codec refuses): resend frame by frame, failing only the culprits. */
  private recover(frames: Frame[]): void {
    for (const frame of frames) {
      if (!this.host.isOpen()) return;
      try {
        this.host.post([frame]);
      } catch (error) {
        if (!this.host.refused(frame, error)) return;
      }
    }
  }

  /** Drops everything queued (the session closed). */
  clear(): void {
    this.queue = [];
    this.transfer = [];
  }
}
