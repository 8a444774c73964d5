/**
 * HTML escaping and the checks that keep hostile data out of markup: text and
 * attribute values are escaped, tag and attribute names are validated (a name
 * cannot be escaped, only refused), and `javascript:` URLs are neutralised.
 *
 * @module
 */

// Separate non-global patterns for the fast-path test: a /g pattern's test() keeps state in lastIndex.
const HAS_TEXT_SPECIAL = /[&<>]/;
const TEXT_SPECIALS = /[&<>]/g;
const HAS_ATTRIBUTE_SPECIAL = /[&<>"']/;
const ATTRIBUTE_SPECIALS = /[&<>"']/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const toEntity = (char: string): string => ENTITIES[char]!;

/** Escapes text for an element's content. @example escapeText('<b>') === '&lt;b&gt;' */
export function escapeText(text: string): string {
  return HAS_TEXT_SPECIAL.test(text) ? text.replace(TEXT_SPECIALS, toEntity) : text;
}

/** Escapes an attribute value for a double-quoted attribute. @example escapeAttribute('"x"') === '&quot;x&quot;' */
export function escapeAttribute(value: string): string {
  return HAS_ATTRIBUTE_SPECIAL.test(value) ? value.replace(ATTRIBUTE_SPECIALS, toEntity) : value;
}

// Stricter than HTML allows (it allows almost anything in a custom element name), so that no name
// can close a tag, open a comment or start an attribute.
const TAG_NAME = /^[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9._-]*)?$/;
// HTML attribute names exclude controls, whitespace, quotes, `>`, `/` and `=`; `<` is refused too.
const ATTRIBUTE_NAME = /^[^\s\u0000-\u001f\u007f-\u009f"'<>/=]+$/;

/** Returns `tag` if it is a safe tag name, else throws a TypeError naming it. @example checkTagName('sw-slot'); */
export function checkTagName(tag: string): string {
  if (!TAG_NAME.test(tag)) throw new TypeError(`invalid tag name ${JSON.stringify(tag)}`);
  return tag;
}

/** Returns `name` if it is a safe attribute name, else throws a TypeError naming it. @example checkAttributeName('data-id'); */
export function checkAttributeName(name: string): string {
  if (!ATTRIBUTE_NAME.test(name)) throw new TypeError(`invalid attribute name ${JSON.stringify(name)}`);
  return name;
}

/** Attributes whose value a browser may navigate to or fetch. */
export const URL_ATTRIBUTES: ReadonlySet<string> = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'cite']);

/** What a script URL is replaced with. */
export const BLOCKED_URL = 'about:blank#blocked';

/**
 * Replaces a `javascript:` or `vbscript:` URL with {@link BLOCKED_URL}, matching
 * the way browsers parse URLs (WHATWG URL: leading controls and spaces are
 * stripped, tabs and newlines removed anywhere), so `" java\nscript:"` is caught too.
 *
 * @example safeUrl('javascript:alert(1)') === 'about:blank#blocked'
 */
export function safeUrl(url: string): string {
  const normalised = url.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
  return /^(?:javascript|vbscript):/i.test(normalised) ? BLOCKED_URL : url;
}
