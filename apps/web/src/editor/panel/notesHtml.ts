import DOMPurify from 'dompurify';
import { escapeAttribute, escapeText, normaliseColor, toNotesSubset } from './notesSubset.ts';

/**
 * Topic notes are a small XHTML subset (the model's: p, br, b, i, u, s, a, ul, ol, li, span with a colour), the
 * shape packages/formats' importers give MindManager and XMind notes. They come from other people's files, from
 * co-editors and from the contentEditable field, so they are sanitised when saved and again when shown:
 *
 * 1. `toNotesSubset` (htmlparser2's tokenizer, no DOM) keeps the subset's elements, drops script-like ones with
 *    their content, and every attribute but a web `href` and a colour, written as `<font color>`: so the DOM never
 *    parses a `style` or `on*` attribute, which Chromium reports as a CSP violation even in an inert document;
 * 2. DOMPurify, the DOM sanitiser, checks the result against the allow-list below (defence in depth: a bug in
 *    one sanitiser is not enough to get markup through);
 * 3. what survives becomes a small tree, written out as XHTML (to save) or built as DOM nodes (to show), with
 *    colours applied through the CSSOM (`element.style.color`), which the CSP allows.
 */

const ALLOWED_TAGS = ['p', 'br', 'b', 'i', 'u', 's', 'a', 'ul', 'ol', 'li', 'font'];
const ALLOWED_ATTR = ['href', 'color'];
const SAFE_URL = /^(?:https?:|mailto:)/i;

const RENAME: Readonly<Record<string, NotesTag>> = {
  p: 'p',
  br: 'br',
  b: 'b',
  i: 'i',
  u: 'u',
  s: 's',
  a: 'a',
  ul: 'ul',
  ol: 'ol',
  li: 'li',
  font: 'span',
};

export type NotesTag = 'p' | 'br' | 'b' | 'i' | 'u' | 's' | 'a' | 'ul' | 'ol' | 'li' | 'span';

/** A sanitised note as a tree: the one shape both outputs (string and DOM) are made from. */
export type NotesNode =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'element';
      readonly tag: NotesTag;
      readonly href?: string;
      readonly color?: string;
      readonly children: readonly NotesNode[];
    };

/** Sanitises notes HTML into the model's subset; `undefined` when nothing readable is left (no note). */
export function sanitizeNotesHtml(html: string): string | undefined {
  const nodes = parseNotes(html);
  if (!hasContent(nodes)) return undefined;
  return nodes.map(serialise).join('');
}

/** Replaces an element's content with the sanitised note, links opening in a new tab without an opener. */
export function showNotes(target: HTMLElement, html: string | undefined): void {
  target.replaceChildren(...notesNodes(target.ownerDocument, html ?? ''));
}

/**
 * The sanitised note as DOM nodes of `doc`, built element by element (never parsed in the page). Without
 * `colors`, coloured spans keep only their text: pasted colours would clash with the notes' own look.
 */
export function notesNodes(doc: Document, html: string, options: { colors?: boolean } = {}): Node[] {
  const nodes = html ? parseNotes(html) : [];
  return (options.colors === false ? nodes.map(withoutColor) : nodes).map((n) => build(doc, n));
}

function withoutColor(node: NotesNode): NotesNode {
  if (node.kind === 'text') return node;
  const children = node.children.map(withoutColor);
  if (node.color === undefined) return { ...node, children };
  return { kind: 'element', tag: 'span', children };
}

/** The sanitised tree of a note. */
export function parseNotes(html: string): NotesNode[] {
  const fragment = DOMPurify.sanitize(toNotesSubset(html), {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_URL,
    // DOMPurify tests every attribute not listed as URI-safe against the URL pattern: `color` is not a URL.
    ADD_URI_SAFE_ATTR: ['color'],
    ALLOW_DATA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
  return convertChildren(fragment);
}

function convertChildren(parent: ParentNode): NotesNode[] {
  const out: NotesNode[] = [];
  for (const child of Array.from(parent.childNodes)) {
    if (child.nodeType === 3) {
      const text = child.textContent ?? '';
      if (text) out.push({ kind: 'text', text });
      continue;
    }
    if (child.nodeType !== 1) continue;
    const el = child as Element;
    const name = el.localName.toLowerCase();
    const tag = RENAME[name];
    const children = convertChildren(el);
    // Belt and braces: DOMPurify already keeps only allowed tags, but the subset is decided here.
    if (!tag) {
      out.push(...children);
      continue;
    }
    if (tag === 'a') {
      const href = (el.getAttribute('href') ?? '').trim();
      if (SAFE_URL.test(href)) out.push({ kind: 'element', tag, href, children });
      else out.push(...children);
      continue;
    }
    if (tag === 'span') {
      const color = normaliseColor(el.getAttribute('color') ?? '');
      if (color) out.push({ kind: 'element', tag, color, children });
      else out.push(...children);
      continue;
    }
    out.push({ kind: 'element', tag, children: tag === 'br' ? [] : children });
  }
  return out;
}

function hasContent(nodes: readonly NotesNode[]): boolean {
  return nodes.some((n) => (n.kind === 'text' ? n.text.trim() !== '' : hasContent(n.children)));
}

function serialise(node: NotesNode): string {
  if (node.kind === 'text') return escapeText(node.text);
  if (node.tag === 'br') return '<br/>';
  let attributes = '';
  if (node.href !== undefined) attributes = ` href="${escapeAttribute(node.href)}"`;
  if (node.color !== undefined) attributes = ` style="color:${node.color}"`;
  return `<${node.tag}${attributes}>${node.children.map(serialise).join('')}</${node.tag}>`;
}

function build(doc: Document, node: NotesNode): Node {
  if (node.kind === 'text') return doc.createTextNode(node.text);
  const el = doc.createElement(node.tag);
  if (node.href !== undefined) {
    el.setAttribute('href', node.href);
    el.setAttribute('target', '_blank');
    el.setAttribute('rel', 'noopener noreferrer');
  }
  if (node.color !== undefined) el.style.color = node.color;
  for (const child of node.children) el.append(build(doc, child));
  return el;
}
