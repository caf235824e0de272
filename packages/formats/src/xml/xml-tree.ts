/**
 * Strict XML → a small element tree. saxes rejects anything that is not well-formed; we also refuse every
 * DOCTYPE (so no DTD, no entity declarations: no XXE, no billion laughs) and bound the nesting depth.
 */
import { SaxesParser } from 'saxes';
import { FormatError } from '../errors.ts';

export interface XmlElement {
  uri: string;
  local: string;
  /** Attributes without a namespace by local name; namespaced ones in Clark notation, `{uri}local`. */
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export interface XmlParseOptions {
  maxDepth: number;
  /** Label used in error messages (e.g. the ZIP entry name). */
  source: string;
}

export function decodeText(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes);
}

export function parseXml(input: string, options: XmlParseOptions): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: unknown;

  parser.on('doctype', () => {
    throw new FormatError('xml_doctype_forbidden', `${options.source}: DOCTYPE declarations are not accepted`);
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= options.maxDepth) {
      throw new FormatError('too_deep', `${options.source}: XML nested deeper than ${options.maxDepth} elements`);
    }
    const attrs: Record<string, string> = {};
    for (const key in tag.attributes) {
      const a = tag.attributes[key]!;
      if (a.prefix === 'xmlns' || a.name === 'xmlns') continue;
      attrs[a.uri ? `{${a.uri}}${a.local}` : a.local] = a.value;
    }
    const element: XmlElement = { uri: tag.uri, local: tag.local, attrs, children: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (text: string) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(text);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('error', (error) => {
    failure ??= error;
    throw error;
  });

  try {
    parser.write(input).close();
  } catch (error) {
    const cause = failure ?? error;
    if (cause instanceof FormatError) throw cause;
    if (error instanceof FormatError) throw error;
    throw new FormatError('invalid_file', `${options.source}: ${cause instanceof Error ? cause.message : 'malformed XML'}`, { cause });
  }
  if (!root) throw new FormatError('invalid_file', `${options.source}: no root element`);
  return root;
}

export function childElements(element: XmlElement, uri?: string, local?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of element.children) {
    if (typeof child === 'string') continue;
    if (uri !== undefined && child.uri !== uri) continue;
    if (local !== undefined && child.local !== local) continue;
    out.push(child);
  }
  return out;
}

export function firstChild(element: XmlElement, uri: string, local: string): XmlElement | undefined {
  for (const child of element.children) {
    if (typeof child !== 'string' && child.local === local && child.uri === uri) return child;
  }
  return undefined;
}

export function textContent(node: XmlNode): string {
  if (typeof node === 'string') return node;
  let out = '';
  for (const child of node.children) out += textContent(child);
  return out;
}
