import DOMPurify from 'dompurify';

/**
 * Topic notes are a small XHTML subset (the model's: p, br, b, i, u, s, a, ul, ol, li, span with a colour), the
 * shape packages/formats' importers give MindManager and XMind notes. They come from other people's files and from
 * the contentEditable field, so they are sanitised when saved and again when shown:
 *
 * 1. DOMPurify (in its own inert document) removes scripts, event handlers, unsafe URLs and everything not on
 *    the allow-list below, keeping the text of unknown elements;
 * 2. what survives is mapped onto the model's subset (strong → b, div → p, font color → span) and either
 *    written out as XHTML (to save) or built as live DOM nodes (to show).
 *
 * Colours are applied through the CSSOM (`element.style.color`), never by parsing a `style` attribute in the page,
 * so showing notes raises no violation under the server's CSP (`style-src 'self'`).
 */

const ALLOWED_TAGS = [
  'p',
  'div',
  'br',
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'a',
  'ul',
  'ol',
  'li',
  'span',
  'font',
];
const ALLOWED_ATTR = ['href', 'style', 'color'];
const SAFE_URL = /^(?:https?:|mailto:)/i;

const RENAME: Readonly<Record<string, NotesTag>> = {
  p: 'p',
  div: 'p',
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

/**
 * Sanitised notes for inserting into the live field (paste): as saved, but without colours, whose `style`
 * attribute the page's CSP would refuse when the browser parses it there.
 */
export function pastableNotesHtml(html: string): string {
  return parseNotes(html).map(withoutColor).map(serialise).join('');
}

function withoutColor(node: NotesNode): NotesNode {
  if (node.kind === 'text') return node;
  const children = node.children.map(withoutColor);
  if (node.color === undefined) return { ...node, children };
  return { kind: 'element', tag: 'span', children };
}

/** Replaces an element's content with the sanitised note, links opening in a new tab without an opener. */
export function showNotes(target: HTMLElement, html: string | undefined): void {
  const doc = target.ownerDocument;
  const nodes = html ? parseNotes(html) : [];
  target.replaceChildren(...nodes.map((n) => build(doc, n)));
}

/** The sanitised tree of a note. */
export function parseNotes(html: string): NotesNode[] {
  const fragment = DOMPurify.sanitize(html, {
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
      const color = colorOf(name, el);
      if (color) out.push({ kind: 'element', tag, color, children });
      else out.push(...children);
      continue;
    }
    out.push({ kind: 'element', tag, children: tag === 'br' ? [] : children });
  }
  return out;
}

function colorOf(name: string, el: Element): string | undefined {
  if (name === 'font') return normaliseColor(el.getAttribute('color') ?? '');
  const match = /(?:^|;)\s*color\s*:\s*([^;]+)/i.exec(el.getAttribute('style') ?? '');
  return match?.[1] ? normaliseColor(match[1]) : undefined;
}

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

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;');
}
