/**
 * Notes are stored as a small XHTML subset (model: p, br, b, i, u, s, a, ul, ol, li, span with colour).
 * Everything else is rewritten or dropped by an allow-list over parser events, never by patching strings:
 * unknown elements keep their text, script-like elements lose their content, only http(s)/mailto links survive.
 */
import { Parser } from 'htmlparser2';
import { escapeXmlAttr, escapeXmlText } from '../xml/xml-writer.ts';
import type { XmlNode } from '../xml/xml-tree.ts';
import { NOTE_DROP_CONTENT, NOTE_ELEMENTS, NOTE_SAFE_URL, noteColorOf } from './notes-vocabulary.ts';

class NotesWriter {
  private out = '';
  private readonly stack: string[] = [];
  private dropDepth = 0;

  open(rawName: string, attrs: Record<string, string>): void {
    const name = rawName.toLowerCase();
    if (this.dropDepth > 0 || NOTE_DROP_CONTENT.has(name)) {
      this.dropDepth++;
      return;
    }
    const mapped = NOTE_ELEMENTS[name];
    if (!mapped) {
      this.stack.push('');
      return;
    }
    if (mapped === 'br') {
      this.out += '<br/>';
      this.stack.push('');
      return;
    }
    let attributes = '';
    if (mapped === 'a') {
      const href = (attrs.href ?? '').trim();
      if (NOTE_SAFE_URL.test(href)) attributes = ` href="${escapeXmlAttr(href)}"`;
    } else if (mapped === 'span') {
      const color = noteColorOf(name, attrs);
      if (!color) {
        this.stack.push('');
        return;
      }
      attributes = ` style="color:${color}"`;
    }
    this.out += `<${mapped}${attributes}>`;
    this.stack.push(mapped);
  }

  close(): void {
    if (this.dropDepth > 0) {
      this.dropDepth--;
      return;
    }
    const mapped = this.stack.pop();
    if (mapped) this.out += `</${mapped}>`;
  }

  text(value: string): void {
    if (this.dropDepth === 0) this.out += escapeXmlText(value);
  }

  finish(): string {
    while (this.stack.length > 0) this.close();
    return this.out.trim();
  }
}

/** Sanitises an HTML string (as found in XMind, FreeMind, OPML or Canopy JSON). */
export function sanitizeNotesHtml(html: string): string {
  const writer = new NotesWriter();
  const stack: string[] = [];
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        stack.push(name);
        writer.open(name, attrs);
      },
      ontext(text) {
        writer.text(text);
      },
      onclosetag(name) {
        if (stack[stack.length - 1] !== name) return;
        stack.pop();
        writer.close();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  return writer.finish();
}

/** Sanitises XHTML nodes already parsed from an XML document (MindManager notes, FreeMind rich content). */
export function sanitizeNotesXml(nodes: readonly XmlNode[]): string {
  const writer = new NotesWriter();
  const visit = (node: XmlNode): void => {
    if (typeof node === 'string') {
      writer.text(node);
      return;
    }
    const attrs: Record<string, string> = {};
    for (const key in node.attrs) if (!key.startsWith('{')) attrs[key.toLowerCase()] = node.attrs[key]!;
    if (node.local === 'html' || node.local === 'body') {
      node.children.forEach(visit);
      return;
    }
    writer.open(node.local, attrs);
    node.children.forEach(visit);
    writer.close();
  };
  nodes.forEach(visit);
  return writer.finish();
}

export function plainTextToNotesHtml(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .filter((para) => para.trim() !== '')
    .map((para) => `<p>${para.split('\n').map(escapeXmlText).join('<br/>')}</p>`)
    .join('');
}

export function notesHtmlToPlainText(html: string): string {
  let out = '';
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'br') out += '\n';
        if (name === 'li') out += '\n- ';
      },
      ontext(text) {
        out += text;
      },
      onclosetag(name) {
        if (name === 'p' || name === 'ul' || name === 'ol') out += '\n\n';
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return out.replace(/\n{3,}/g, '\n\n').trim();
}
