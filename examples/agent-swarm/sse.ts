/**
 * A small server-sent events parser, after the WHATWG HTML "event stream
 * interpretation": lines end in CRLF, LF or CR (a CRLF split across chunks
 * counts once), `data:` lines join with `\n`, a blank line dispatches, `:`
 * starts a comment, one space after the colon is dropped, and an event with
 * no data is not dispatched. Bytes are decoded as a stream, so a character
 * split across chunks survives.
 *
 * @module
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, `"message"` when absent. */
  event: string;
  /** The `data:` lines, joined with `\n`. */
  data: string;
  /** The last `id:` seen, if any. */
  id?: string;
}

/**
 * Incremental parser: `push` text as it arrives and get the events that
 * completed; `end` at the close. Unlike a browser's EventSource, `end`
 * dispatches an event whose blank line never came (a server that closes
 * right after its last `data:` line), since nothing else would.
 *
 * @example
 * ```ts
 * const parser = new SseParser();
 * parser.push('data: {"a"');  // []
 * parser.push(':1}\n\n');      // [{ event: 'message', data: '{"a":1}' }]
 * ```
 */
export class SseParser {
  /** The unfinished last line. */
  private line = '';
  /** The previous chunk ended in CR: an LF opening this one belongs to it. */
  private afterCr = false;
  private data: string[] = [];
  private event = '';
  private id: string | undefined;

  /** Parses more text; returns the events it completed. */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    if (this.afterCr && text.startsWith('\n')) start = 1;
    this.afterCr = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.onLine(this.line + text.slice(start, i), events);
      this.line = '';
      if (c === 13) {
        if (i + 1 === text.length) this.afterCr = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.line += text.slice(start);
    return events;
  }

  /** The stream closed: dispatches what is complete enough to dispatch. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.line !== '') this.onLine(this.line, events);
    this.line = '';
    this.onLine('', events);
    return events;
  }

  private onLine(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        const event: SseEvent = { event: this.event || 'message', data: this.data.join('\n') };
        if (this.id !== undefined) event.id = this.id;
        events.push(event);
      }
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // `retry` and unknown fields are ignored, as the spec says.
  }
}

/**
 * The events of a byte stream (a fetch `Response.body`), as they complete.
 * Closing the generator early cancels the body.
 */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent, void, undefined> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for await (const chunk of body) yield* parser.push(decoder.decode(chunk, { stream: true }));
  yield* parser.push(decoder.decode());
  yield* parser.end();
}
