import { Parser } from 'htmlparser2';

/**
 * The first pass over notes HTML, without the DOM (htmlparser2's tokenizer): keeps the elements of the notes
 * subset, renaming the usual synonyms as packages/formats' importers do (strong → b, div and headings → p, ...),
 * drops script-like elements with their content, and drops every attribute but a web `href` and a colour, which
 * it writes as `<font color="#rrggbb">`.
 *
 * Why a pass before DOMPurify: Chromium reports every `style` and `on*` attribute it parses as a violation of the
 * CSP (`style-src 'self'`, `script-src 'self'`), even in an inert document such as DOMPurify's, so pasted web
 * pages and coloured notes would fill the console (and any CSP report endpoint) with violations. After this pass
 * the DOM never sees one. This pass is not the only guard: DOMPurify checks its output against its allow-list.
 */

const RENAME: Readonly<Record<string, string>> = {
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
  span: 'font',
  font: 'font',
};

/** Elements whose content is not note text. */
const DROP_CONTENT = new Set([
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

const SAFE_URL = /^(?:https?:|mailto:)/i;

/** #rrggbb from #rgb, #rrggbb or rgb(r, g, b); anything else (names, url(), expressions) is dropped. */
export function normaliseColor(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(v)) return v;
  if (/^#[0-9a-f]{3}$/.test(v)) return `#${v[1]}${v[1]}${v[2]}${v[2]}${v[3]}${v[3]}`;
  const rgb = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/.exec(v);
  if (!rgb) return undefined;
  const hex = [rgb[1], rgb[2], rgb[3]].map((n) => Math.min(255, Number(n)).toString(16).padStart(2, '0'));
  return `#${hex.join('')}`;
}

function colorOf(name: string, attrs: Record<string, string>): string | undefined {
  if (name === 'font' && attrs.color) return normaliseColor(attrs.color);
  const match = /(?:^|;)\s*color\s*:\s*([^;]+)/i.exec(attrs.style ?? '');
  return match?.[1] ? normaliseColor(match[1]) : undefined;
}

/** Notes HTML reduced to the subset's tags, with `href` and `<font color>` as the only attributes. */
export function toNotesSubset(html: string): string {
  let out = '';
  /** Per open element (by its source name): what was written for it ('' when nothing). */
  const open: { name: string; written: string }[] = [];
  let dropDepth = 0;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (dropDepth > 0 || DROP_CONTENT.has(name)) {
          dropDepth++;
          open.push({ name, written: '' });
          return;
        }
        const mapped = RENAME[name];
        let written = '';
        if (mapped === 'br') {
          out += '<br>';
        } else if (mapped === 'a') {
          const href = (attrs.href ?? '').trim();
          out += SAFE_URL.test(href) ? `<a href="${escapeAttribute(href)}">` : '<a>';
          written = 'a';
        } else if (mapped === 'font') {
          const color = colorOf(name, attrs);
          if (color) {
            out += `<font color="${color}">`;
            written = 'font';
          }
        } else if (mapped) {
          out += `<${mapped}>`;
          written = mapped;
        }
        open.push({ name, written });
      },
      ontext(text) {
        if (dropDepth === 0) out += escapeText(text);
      },
      onclosetag(name) {
        // htmlparser2 also closes what the source left open; a stray end tag matches nothing and is ignored.
        if (open[open.length - 1]?.name !== name) return;
        const element = open.pop()!;
        if (dropDepth > 0) dropDepth--;
        else if (element.written) out += `</${element.written}>`;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  return out;
}

export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;');
}
