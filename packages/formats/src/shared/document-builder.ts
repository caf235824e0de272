import { DOCUMENT_SCHEMA_VERSION, type MapDocument, type Topic } from '@canopy/model';
import { FormatError } from '../errors.ts';
import type { ImportLimits } from '../limits.ts';

/**
 * Shared by every importer: hands out unique ids, counts topics against the limits as they are created
 * (so a hostile file stops at the limit, not after), and collects warnings without repeating them.
 */
export class DocumentBuilder {
  private readonly ids = new Set<string>();
  private topics = 0;
  private nextId = 1;
  private readonly warningCounts = new Map<string, number>();

  constructor(readonly limits: ImportLimits) {}

  topic(depth: number, sourceId: string | undefined, text: string): Topic {
    if (depth > this.limits.maxDepth) {
      throw new FormatError('too_deep', `topics nested deeper than ${this.limits.maxDepth} levels`);
    }
    if (++this.topics > this.limits.maxTopics) {
      throw new FormatError('too_many_topics', `more than ${this.limits.maxTopics} topics`);
    }
    return { id: this.claimId(sourceId), text, children: [] };
  }

  /** A unique id: the source's own when it has one that is free, else a fresh one. */
  claimId(sourceId: string | undefined): string {
    if (sourceId && !this.ids.has(sourceId)) {
      this.ids.add(sourceId);
      return sourceId;
    }
    if (sourceId) this.warn('duplicate ids renamed');
    let id: string;
    do id = `t${this.nextId++}`;
    while (this.ids.has(id));
    this.ids.add(id);
    return id;
  }

  hasId(id: string): boolean {
    return this.ids.has(id);
  }

  get topicCount(): number {
    return this.topics;
  }

  warn(message: string): void {
    this.warningCounts.set(message, (this.warningCounts.get(message) ?? 0) + 1);
  }

  get warnings(): string[] {
    return [...this.warningCounts].map(([message, count]) =>
      count > 1 ? `${message} (${count}×)` : message,
    );
  }

  document(parts: Omit<MapDocument, 'schemaVersion'>): MapDocument {
    return { schemaVersion: DOCUMENT_SCHEMA_VERSION, ...parts };
  }
}

/** Depth-first over the tree, floating topics and summary topics; `visit` may return false to skip children. */
export function forEachTopic(document: MapDocument, visit: (topic: Topic, depth: number) => void): void {
  const walk = (topic: Topic, depth: number): void => {
    visit(topic, depth);
    for (const child of topic.children) walk(child, depth + 1);
    for (const summary of topic.summaries ?? []) walk(summary.topic, depth + 1);
  };
  walk(document.root, 0);
  for (const floating of document.floating) walk(floating, 1);
}

export function countTopics(document: MapDocument): number {
  let count = 0;
  forEachTopic(document, () => count++);
  return count;
}

/** Converts between `#rrggbb[aa]` (model) and ARGB hex `aarrggbb` (MindManager). */
export function cssToArgb(color: string | undefined): string | undefined {
  const m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color ?? '');
  if (!m) return undefined;
  return `${(m[2] ?? 'ff').toLowerCase()}${m[1]!.toLowerCase()}`;
}

export function argbToCss(value: string | undefined): string | undefined {
  const m = /^([0-9a-f]{2})([0-9a-f]{6})$/i.exec(value ?? '');
  if (!m) return undefined;
  const alpha = m[1]!.toLowerCase();
  return `#${m[2]!.toLowerCase()}${alpha === 'ff' ? '' : alpha}`;
}

export function normaliseCssColor(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  if (/^#[0-9a-f]{6}([0-9a-f]{2})?$/.test(v)) return v;
  if (/^#[0-9a-f]{3}$/.test(v)) return `#${v[1]}${v[1]}${v[2]}${v[2]}${v[3]}${v[3]}`;
  return undefined;
}

export function fileStem(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  const base = filename.split(/[\\/]/).pop() ?? filename;
  const stem = base.replace(/\.[^.]+$/, '');
  return stem || undefined;
}
