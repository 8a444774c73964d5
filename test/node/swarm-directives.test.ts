// The swarm's directive parser: `<section topic="...">` found in a token stream
// however the tokens split it, and anything malformed passed on as text.
import { describe, expect, test } from 'vitest';
import { DirectiveParser, MAX_DIRECTIVE_CHARS, matchDirective, type Piece } from '../../examples/agent-swarm/directives.ts';

/** Feeds tokens one by one and merges adjacent text pieces, so tests compare meaning, not chunking. */
function parse(tokens: string[]): Piece[] {
  const parser = new DirectiveParser();
  const pieces = [...tokens.flatMap((t) => parser.push(t)), ...parser.end()];
  const merged: Piece[] = [];
  for (const piece of pieces) {
    const last = merged[merged.length - 1];
    if (piece.kind === 'text' && last?.kind === 'text') last.text += piece.text;
    else merged.push({ ...piece });
  }
  return merged;
}

const text = (t: string): Piece => ({ kind: 'text', text: t });
const spawn = (topic: string): Piece => ({ kind: 'spawn', topic });

describe('the directive parser', () => {
  test('finds a directive inside a single token', () => {
    expect(parse(['Intro. <section topic="Tides"> More.'])).toEqual([text('Intro. '), spawn('Tides'), text(' More.')]);
  });

  test('finds a directive split across tokens at every possible point', () => {
    const source = 'a<section topic="Deep water">b';
    for (let i = 1; i < source.length; i++) {
      for (let j = i + 1; j < source.length; j++) {
        const tokens = [source.slice(0, i), source.slice(i, j), source.slice(j)];
        expect(parse(tokens), tokens.join('|')).toEqual([text('a'), spawn('Deep water'), text('b')]);
      }
    }
  });

  test('finds a directive fed one character at a time', () => {
    expect(parse([...'x<section topic="One"><section topic="Two">y'])).toEqual([text('x'), spawn('One'), spawn('Two'), text('y')]);
  });

  test('passes text on as soon as it cannot be part of a tag', () => {
    const parser = new DirectiveParser();
    expect(parser.push('plain words ')).toEqual([text('plain words ')]);
    expect(parser.push('then <sec')).toEqual([text('then ')]);
    expect(parser.push('ret>')).toEqual([text('<secret>')]);
  });

  test('accepts self-closing tags, extra spaces and entities in the topic', () => {
    expect(parse(['<section  topic="Salt &amp; &quot;sea&quot;" />'])).toEqual([spawn('Salt & "sea"')]);
  });

  test('drops closing tags', () => {
    expect(parse(['a<section topic="T"></sec', 'tion>b'])).toEqual([text('a'), spawn('T'), text('b')]);
  });

  test('treats malformed tags as text', () => {
    for (const bad of ['<section>', '<section topic=T>', "<section topic='T'>", '<section topic="">', '<section topic="a\nb">', '<sections topic="T">', '<section topic="T" x>', '<Section topic="T">']) {
      expect(parse([bad]), bad).toEqual([text(bad)]);
    }
  });

  test('keeps a stray < in prose', () => {
    expect(parse(['if a <', ' b and c <= d then <em>'])).toEqual([text('if a < b and c <= d then <em>')]);
  });

  test('releases an unfinished tag as text at the end of the stream', () => {
    expect(parse(['end <section topic="Unfini', 'shed'])).toEqual([text('end <section topic="Unfinished')]);
  });

  test('releases a tag prefix that grows past the limit as text', () => {
    const long = `<section topic="${'x'.repeat(MAX_DIRECTIVE_CHARS)}`;
    const parser = new DirectiveParser();
    const pieces = [...long].flatMap((c) => parser.push(c));
    expect(pieces.map((p) => (p.kind === 'text' ? p.text : '')).join('')).toBe(long);
    expect(pieces.every((p) => p.kind === 'text')).toBe(true);
  });

  test('matchDirective tells a whole tag, a prefix and a non-tag apart', () => {
    expect(matchDirective('<section topic="A">rest')).toEqual({ status: 'tag', length: 19, topic: 'A' });
    expect(matchDirective('<section topic="A"')).toEqual({ status: 'partial' });
    expect(matchDirective('<sect')).toEqual({ status: 'partial' });
    expect(matchDirective('<b>')).toEqual({ status: 'none' });
  });
});
