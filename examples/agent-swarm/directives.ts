/**
 * The spawn directive parser: finds `<section topic="...">` tags in a token
 * stream as it flows, where a tag may be split across any number of tokens.
 *
 * Text is passed on as soon as it cannot be part of a tag; only a possible
 * tag prefix (`<sec`, `<section topic="Orig`) is held back, and never more
 * than {@link MAX_DIRECTIVE_CHARS}: a stray `<` in prose costs nothing, and a
 * tag that never closes is released as the text it was. Anything malformed
 * (`<section>`, `<section topic=x>`, a newline inside the value) is text.
 * `</section>` closing tags are dropped, since models like to add them.
 *
 * @module
 */

/** One piece of parsed output: prose to print, or a sub-agent to spawn in place. */
export type Piece = { kind: 'text'; text: string } | { kind: 'spawn'; topic: string };

/** Longest tag the parser holds back before giving up on it and releasing it as text. */
export const MAX_DIRECTIVE_CHARS = 300;

const OPEN = '<section';
const ATTRIBUTE = 'topic="';
const CLOSE = '</section>';

/** The result of matching at a `<`: a whole tag, a prefix that may still become one, or neither. */
type Match = { status: 'tag'; length: number; topic: string | null } | { status: 'partial' } | { status: 'none' };

const isSpace = (c: string): boolean => c === ' ' || c === '\t';

/** Matches `literal` at `i`; `partial` when `s` ends inside it. */
function literal(s: string, i: number, word: string): number | 'partial' | 'none' {
  for (let k = 0; k < word.length; k++) {
    if (i + k >= s.length) return 'partial';
    if (s[i + k] !== word[k]) return 'none';
  }
  return i + word.length;
}

/** Matches `<section topic="..." >` or `</section>` at the start of `s`. */
export function matchDirective(s: string): Match {
  const closing = literal(s, 0, CLOSE);
  if (closing === 'partial') return { status: 'partial' };
  if (closing !== 'none') return { status: 'tag', length: closing, topic: null };
  let i = literal(s, 0, OPEN);
  if (typeof i !== 'number') return { status: i };
  // At least one space, then the attribute.
  if (i >= s.length) return { status: 'partial' };
  if (!isSpace(s[i]!)) return { status: 'none' };
  while (i < s.length && isSpace(s[i]!)) i++;
  const value = literal(s, i, ATTRIBUTE);
  if (typeof value !== 'number') return { status: value };
  const end = s.indexOf('"', value);
  const bad = /[<>\n]/.exec(s.slice(value, end === -1 ? undefined : end));
  if (bad !== null) return { status: 'none' };
  if (end === -1) return { status: 'partial' };
  i = end + 1;
  while (i < s.length && isSpace(s[i]!)) i++;
  if (i < s.length && s[i] === '/') i++;
  if (i >= s.length) return { status: 'partial' };
  if (s[i] !== '>') return { status: 'none' };
  const topic = decodeEntities(s.slice(value, end)).trim();
  return topic === '' ? { status: 'none' } : { status: 'tag', length: i + 1, topic };
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' };

function decodeEntities(value: string): string {
  return value.replace(/&(amp|quot|apos|lt|gt);/g, (_, name: string) => ENTITIES[name]!);
}

/**
 * A streaming parser of spawn directives. Feed it tokens with `push`, then
 * call `end` once; each returns the pieces that became certain.
 *
 * @example
 * ```ts
 * const parser = new DirectiveParser();
 * parser.push('Intro. <sec');            // [{ kind: 'text', text: 'Intro. ' }]
 * parser.push('tion topic="Tides">More'); // [{ kind: 'spawn', topic: 'Tides' }, { kind: 'text', text: 'More' }]
 * parser.end();                          // []
 * ```
 */
export class DirectiveParser {
  /** Text held back because it may be the start of a tag. Always starts with `<` when not empty. */
  private pending = '';

  /** Parses one more token. */
  push(token: string): Piece[] {
    return this.scan(this.pending + token, false);
  }

  /** The stream ended: a held-back prefix is released as text. */
  end(): Piece[] {
    return this.scan(this.pending, true);
  }

  private scan(s: string, final: boolean): Piece[] {
    const pieces: Piece[] = [];
    let text = '';
    let i = 0;
    this.pending = '';
    while (i < s.length) {
      const lt = s.indexOf('<', i);
      if (lt === -1) {
        text += s.slice(i);
        break;
      }
      text += s.slice(i, lt);
      const match = matchDirective(s.slice(lt));
      if (match.status === 'partial' && !final && s.length - lt < MAX_DIRECTIVE_CHARS) {
        this.pending = s.slice(lt);
        break;
      }
      if (match.status === 'tag') {
        if (text !== '') pieces.push({ kind: 'text', text });
        text = '';
        if (match.topic !== null) pieces.push({ kind: 'spawn', topic: match.topic });
        i = lt + match.length;
      } else {
        text += '<';
        i = lt + 1;
      }
    }
    if (text !== '') pieces.push({ kind: 'text', text });
    return pieces;
  }
}
