/**
 * The notes subset's vocabulary, shared by the importers' sanitiser and the web editor's paste/save pass (which
 * imports it as `@canopy/formats/notes-vocabulary`: this file must stay free of other imports so the browser
 * bundle does not pull in the model).
 */

/** Accepted element → the subset's element (`span` carries a colour); anything unlisted keeps only its text. */
export const NOTE_ELEMENTS: Readonly<Record<string, string>> = {
  p: 'p',
  div: 'p',
  h1: 'p',
  h2: 'p',
  h3: 'p',
  h4: 'p',
  h5: 'p',
  h6: 'p',
  blockquote: 'p',
  pre: 'p',
  br: 'br',
  b: 'b',
  strong: 'b',
  i: 'i',
  em: 'i',
  u: 'u',
  ins: 'u',
  s: 's',
  strike: 's',
  del: 's',
  a: 'a',
  ul: 'ul',
  ol: 'ol',
  li: 'li',
  span: 'span',
  font: 'span',
};

/** Elements whose content is not note text: dropped with everything inside. */
export const NOTE_DROP_CONTENT: ReadonlySet<string> = new Set([
  'script',
  'style',
  'head',
  'title',
  'iframe',
  'object',
  'embed',
  'template',
  'noscript',
  'svg',
  'math',
  'textarea',
  'select',
]);

/** Link targets a note may keep. */
export const NOTE_SAFE_URL = /^(?:https?:|mailto:)/i;

/** #rrggbb from #rgb, #rrggbb or rgb(r, g, b); anything else (names, url(), expressions) is dropped. */
export function normaliseNoteColor(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(v)) return v;
  if (/^#[0-9a-f]{3}$/.test(v)) return `#${v[1]}${v[1]}${v[2]}${v[2]}${v[3]}${v[3]}`;
  const rgb = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/.exec(v);
  if (!rgb) return undefined;
  const hex = [rgb[1], rgb[2], rgb[3]].map((n) => Math.min(255, Number(n)).toString(16).padStart(2, '0'));
  return `#${hex.join('')}`;
}

/** The colour of a `<font color>` or of a `color:` declaration in a style attribute. */
export function noteColorOf(tag: string, attrs: Readonly<Record<string, string>>): string | undefined {
  if (tag === 'font' && attrs.color) return normaliseNoteColor(attrs.color);
  const match = /(?:^|;)\s*color\s*:\s*([^;]+)/i.exec(attrs.style ?? '');
  return match?.[1] ? normaliseNoteColor(match[1]) : undefined;
}
