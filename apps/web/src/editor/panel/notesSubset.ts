import {
  NOTE_DROP_CONTENT,
  NOTE_ELEMENTS,
  NOTE_SAFE_URL,
  noteColorOf,
  normaliseNoteColor,
} from '@canopy/formats/notes-vocabulary';
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

/** Kept for the panel's callers: the subset's colour rule. */
export const normaliseColor = normaliseNoteColor;

/** Notes HTML reduced to the subset's tags, with `href` and `<font color>` as the only attributes. */
export function toNotesSubset(html: string): string {
  let out = '';
  /** Per open element (by its source name): what was written for it ('' when nothing). */
  const open: { name: string; written: string }[] = [];
  let dropDepth = 0;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (dropDepth > 0 || NOTE_DROP_CONTENT.has(name)) {
          dropDepth++;
          open.push({ name, written: '' });
          return;
        }
        const mapped = NOTE_ELEMENTS[name];
        let written = '';
        if (mapped === 'br') {
          out += '<br>';
        } else if (mapped === 'a') {
          const href = (attrs.href ?? '').trim();
          out += NOTE_SAFE_URL.test(href) ? `<a href="${escapeAttribute(href)}">` : '<a>';
          written = 'a';
        } else if (mapped === 'span') {
          const color = noteColorOf(name, attrs);
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
