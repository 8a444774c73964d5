/**
 * UTF-8 byte counting for text wires, without allocating an encoded copy.
 * Internal to the adapters (not a package export).
 *
 * @module
 */

/**
 * Bytes of `text` in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes).
 *
 * @example
 * ```ts
 * utf8Length('é€😀'); // 2 + 3 + 4 = 9
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        bytes += 4; // a surrogate pair is one 4-byte code point
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character.
 *
 * @example
 * ```ts
 * truncateUtf8('é'.repeat(100), 123); // 61 characters, 122 bytes
 * ```
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text; // fits whatever the characters are
  let out = '';
  let bytes = 0;
  for (const char of text) {
    bytes += utf8Length(char);
    if (bytes > maxBytes) break;
    out += char;
  }
  return out;
}
