/**
 * The document writer and the live status line. The document goes to stdout
 * with backpressure; the status line (agents running / queued / done, tokens
 * per second, elapsed time) goes to stderr, and only when stderr is a
 * terminal: without one, not a single control character is written.
 *
 * When stdout is the same terminal, the status line lives on the line below
 * the text being written and moves down with it; when stdout is redirected,
 * it is redrawn in place on stderr.
 *
 * @module
 */
import { once } from 'node:events';
import type { SwarmTelemetry } from './telemetry.ts';

/** How the status line is shown: not at all, below the document on a shared terminal, or alone on stderr. */
type Mode = 'off' | 'below' | 'alone';

const ESC = '\x1b[';
const REFRESH_MS = 100;

/** Tokens per second over about the last second, from samples of the running total. */
class Rate {
  private readonly samples: Array<[number, number]> = [];

  sample(now: number, total: number): number {
    this.samples.push([now, total]);
    while (this.samples.length > 2 && now - this.samples[1]![0] >= 1000) this.samples.shift();
    const [t, n] = this.samples[0]!;
    return now - t > 0 ? ((total - n) * 1000) / (now - t) : 0;
  }
}

/** The status text, e.g. `swarm: 4 running, 2 queued, 7/13 done, 0 failed | 1,204 tokens, 312 tok/s | 3.2 s`. */
export function statusText(telemetry: SwarmTelemetry, tokensPerSecond: number): string {
  const c = telemetry.counts();
  const finished = c.done + c.failed + c.cancelled;
  const failed = c.failed > 0 ? `, ${c.failed} failed` : '';
  const tokens = telemetry.tokens.toLocaleString('en-US');
  return `swarm: ${c.running} running, ${c.queued} queued, ${finished}/${c.total} done${failed} | ${tokens} tokens, ${Math.round(tokensPerSecond)} tok/s | ${(telemetry.now() / 1000).toFixed(1)} s`;
}

/** Terminal columns a string takes: East Asian wide characters and emoji take 2, combining marks 0, a tab up to 8. */
export function displayWidth(text: string, start = 0): number {
  let width = start;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\t') width += 8 - (width % 8);
    else if (code < 0x20 || (code >= 0x300 && code < 0x370) || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f)) continue;
    else if (
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1f300 && code <= 0x1faff) ||
      (code >= 0x20000 && code <= 0x3fffd)
    )
      width += 2;
    else width += 1;
  }
  return width - start;
}

/** Writes the document to `out` and keeps a status line on `err` up to date. */
export class DocumentWriter {
  private readonly mode: Mode;
  private readonly rate = new Rate();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The cached status text, rebuilt at most every REFRESH_MS. */
  private text = '';
  /** Display width of the document's current line so far (when stdout is a terminal). */
  private lineWidth = 0;
  /** The status line is on screen. */
  private shown = false;

  constructor(
    private readonly telemetry: SwarmTelemetry,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly err: NodeJS.WriteStream = process.stderr,
    status = true,
  ) {
    this.mode = !status || !err.isTTY ? 'off' : out.isTTY ? 'below' : 'alone';
    if (this.mode !== 'off') {
      this.timer = setInterval(() => this.refresh(), REFRESH_MS);
      this.timer.unref();
      this.refresh();
    }
  }

  /** Writes a piece of the document; resolves when stdout can take more. */
  async write(text: string): Promise<void> {
    this.telemetry.output();
    if (this.mode === 'below') this.erase();
    const ok = this.out.write(text);
    if (this.out.isTTY) {
      const newline = text.lastIndexOf('\n');
      this.lineWidth = newline === -1 ? this.lineWidth + displayWidth(text, this.lineWidth) : displayWidth(text.slice(newline + 1));
    }
    if (this.mode === 'below') this.draw();
    if (!ok) await once(this.out, 'drain');
  }

  /** Removes the status line for good (before the summary); on a terminal, ends the document's last line. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.erase();
    if (this.out.isTTY && this.lineWidth > 0) this.out.write('\n');
  }

  private refresh(): void {
    this.text = statusText(this.telemetry, this.rate.sample(this.telemetry.now(), this.telemetry.tokens));
    this.draw();
  }

  private draw(): void {
    if (this.mode === 'off' || this.timer === undefined) return;
    // One character short of the width: a status that wraps would break the cursor arithmetic.
    const line = this.text.slice(0, Math.max(10, (this.err.columns ?? 80) - 1));
    if (this.mode === 'alone') this.err.write(`\r${ESC}2K${line}`);
    else {
      // A line that exactly fills the width leaves the terminal about to wrap; moving the cursor
      // would lose that, and the next character would overwrite the last one. Skip this frame.
      const width = this.out.columns ?? 80;
      if (this.lineWidth > 0 && this.lineWidth % width === 0) return;
      // Down and up again (scrolling if on the last row, keeping the column), save the cursor,
      // draw on the row below, restore: no column arithmetic that wide characters could upset.
      this.err.write(`\x1bD\x1bM\x1b7${ESC}1B\r${ESC}2K${line}\x1b8`);
    }
    this.shown = true;
  }

  private erase(): void {
    if (!this.shown) return;
    this.shown = false;
    // `below`: clear from the cursor to the end of the screen, which is where the status line is.
    this.err.write(this.mode === 'alone' ? `\r${ESC}2K` : `${ESC}J`);
  }
}
