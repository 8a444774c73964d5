/**
 * Serialises an intrinsic element's props to HTML attributes.
 *
 * @module
 */
import { checkAttributeName, escapeAttribute, safeUrl, URL_ATTRIBUTES } from './escape.ts';

/** React spellings accepted as aliases. */
const ALIASES: Record<string, string> = { className: 'class', htmlFor: 'for' };

/** `{ fontSize: '2em' }` -> `font-size:2em`; property names are checked like attribute names. */
function styleText(style: Record<string, unknown>): string {
  return Object.entries(style)
    .filter(([, value]) => value !== null && value !== undefined && value !== false)
    .map(([property, value]) => `${checkAttributeName(property.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))}:${String(value)}`)
    .join(';');
}

/**
 * The attribute text of an opening tag (with a leading space per attribute).
 * `children` and `key` are skipped; `false`, `null` and `undefined` leave an
 * attribute out and `true` writes it bare. A function (an event handler) or
 * an object other than `style` cannot become HTML: TypeError. Values are
 * escaped; names are validated; URL attributes lose script URLs.
 *
 * @example attributesText({ class: 'a', hidden: true, title: '"x"' }) === ' class="a" hidden title="&quot;x&quot;"'
 */
export function attributesText(props: Readonly<Record<string, unknown>>): string {
  let text = '';
  for (const key of Object.keys(props)) {
    if (key === 'children' || key === 'key') continue;
    const value = props[key];
    if (value === null || value === undefined || value === false) continue;
    const name = checkAttributeName(ALIASES[key] ?? key);
    if (value === true) {
      text += ` ${name}`;
      continue;
    }
    let string: string;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') string = String(value);
    else if (name === 'style' && typeof value === 'object') string = styleText(value as Record<string, unknown>);
    else throw new TypeError(`attribute ${JSON.stringify(key)} cannot be rendered to HTML from a ${typeof value}`);
    if (URL_ATTRIBUTES.has(name.toLowerCase())) string = safeUrl(string);
    text += ` ${name}="${escapeAttribute(string)}"`;
  }
  return text;
}
