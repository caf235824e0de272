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
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe)
    return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff)
    return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes);
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const ROOT_SCOPE: Record<string, string> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { xml: XML_NAMESPACE }),
);

/** What a streaming handler wants done with an element it is offered. */
export type XmlDecision = 'capture' | 'descend' | 'skip';

/**
 * Receives the document's elements outside captured subtrees: `open` decides, per element, whether to build it
 * whole and receive it on `close` ('capture'), to be offered its children one by one ('descend', `close` then gets
 * the element without children), or to ignore it and everything inside ('skip').
 */
export interface XmlStreamHandler {
  open(uri: string, local: string, attrs: Record<string, string>): XmlDecision;
  /** `captured` tells a captured subtree from a descended element (which has no children). */
  close(element: XmlElement, captured: boolean): void;
}

const enum Mode {
  CaptureRoot,
  Captured,
  Descend,
  Skip,
}

/**
 * saxes checks well-formedness; namespaces are resolved here (scopes chained by prototype) rather than by saxes,
 * which lets the attribute object saxes built be used as is for the common case of unprefixed attributes.
 * Only captured subtrees are kept in memory, so a large document can be mapped while it is read.
 */
export function streamXml(input: string, options: XmlParseOptions, handler: XmlStreamHandler): void {
  const parser = new SaxesParser({ xmlns: false, position: false });
  const modes: Mode[] = [];
  const scopes: Array<Record<string, string>> = [];
  const captured: XmlElement[] = [];
  const descended: XmlElement[] = [];
  let skipping = 0;
  let failure: unknown;
  let namesScope: Record<string, string> | undefined;
  let names = new Map<string, { uri: string; local: string }>();

  parser.on('doctype', () => {
    throw new FormatError(
      'xml_doctype_forbidden',
      `${options.source}: DOCTYPE declarations are not accepted`,
    );
  });
  parser.on('opentag', (tag) => {
    if (modes.length >= options.maxDepth) {
      throw new FormatError(
        'too_deep',
        `${options.source}: XML nested deeper than ${options.maxDepth} elements`,
      );
    }
    const parentScope = scopes[scopes.length - 1] ?? ROOT_SCOPE;
    if (skipping > 0) {
      skipping++;
      modes.push(Mode.Skip);
      scopes.push(parentScope);
      return;
    }
    const raw = tag.attributes;
    let scope = parentScope;
    let rewrite = false;
    for (const key in raw) {
      if (key.indexOf(':') < 0 && key !== 'xmlns') continue;
      rewrite = true;
      if (key === 'xmlns' || key.startsWith('xmlns:')) {
        if (scope === parentScope) scope = Object.create(parentScope) as Record<string, string>;
        scope[key === 'xmlns' ? '' : key.slice(6)] = raw[key]!;
      }
    }
    let attrs: Record<string, string> = raw;
    if (rewrite) {
      attrs = {};
      for (const key in raw) {
        if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
        const colon = key.indexOf(':');
        if (colon < 0) {
          attrs[key] = raw[key]!;
          continue;
        }
        const uri = scope[key.slice(0, colon)];
        attrs[uri ? `{${uri}}${key.slice(colon + 1)}` : key] = raw[key]!;
      }
    }
    // Element names repeat: resolve each once per namespace scope.
    if (scope !== namesScope) {
      namesScope = scope;
      names = new Map();
    }
    let resolved = names.get(tag.name);
    if (!resolved) {
      const name = tag.name;
      const colon = name.indexOf(':');
      resolved = {
        uri: scope[colon < 0 ? '' : name.slice(0, colon)] ?? '',
        local: colon < 0 ? name : name.slice(colon + 1),
      };
      names.set(name, resolved);
    }
    const { uri, local } = resolved;
    scopes.push(scope);
    const parent = captured[captured.length - 1];
    if (parent) {
      const element: XmlElement = { uri, local, attrs, children: [] };
      parent.children.push(element);
      captured.push(element);
      modes.push(Mode.Captured);
      return;
    }
    const decision = handler.open(uri, local, attrs);
    if (decision === 'skip') {
      skipping = 1;
      modes.push(Mode.Skip);
    } else if (decision === 'capture') {
      captured.push({ uri, local, attrs, children: [] });
      modes.push(Mode.CaptureRoot);
    } else {
      descended.push({ uri, local, attrs, children: [] });
      modes.push(Mode.Descend);
    }
  });
  parser.on('closetag', () => {
    scopes.pop();
    switch (modes.pop()) {
      case Mode.Skip:
        skipping--;
        break;
      case Mode.Captured:
        captured.pop();
        break;
      case Mode.CaptureRoot:
        handler.close(captured.pop()!, true);
        break;
      case Mode.Descend:
        handler.close(descended.pop()!, false);
        break;
      default:
        break;
    }
  });
  const onText = (text: string) => {
    const parent = captured[captured.length - 1];
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
    throw new FormatError(
      'invalid_file',
      `${options.source}: ${cause instanceof Error ? cause.message : 'malformed XML'}`,
      { cause },
    );
  }
}

/** The whole document as a tree. */
export function parseXml(input: string, options: XmlParseOptions): XmlElement {
  let root: XmlElement | undefined;
  streamXml(input, options, {
    open: () => 'capture',
    close: (element) => {
      root = element;
    },
  });
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
