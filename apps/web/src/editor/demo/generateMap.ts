import type { DOCUMENT_SCHEMA_VERSION, MapDocument, Topic } from '@canopy/model';

// Type-only use of the model keeps its runtime (Loro) out of this module; the type check keeps the value in sync.
const SCHEMA_VERSION: typeof DOCUMENT_SCHEMA_VERSION = 1;

const WORDS = (
  'plan research budget launch design review hiring roadmap customers pricing support metrics risks ' +
  'partners content training security onboarding release quality feedback goals timeline vendors ' +
  'marketing sales legal operations infrastructure analytics prototype interviews backlog experiments'
).split(' ');

export interface GenerateOptions {
  /** Total number of topics, the central topic included. */
  topics: number;
  seed?: number;
  /** Main topics around the centre. */
  mainTopics?: number;
  /** Add a few relationships, collapsed branches, icons, task info and images. */
  decorate?: boolean;
}

/**
 * A deterministic map of a given size for demos, screenshots and benchmarks: a bushy tree, 2 to 6 children
 * per topic, breadth-first so that the map is wide rather than deep, like real brainstorming maps.
 */
export function generateMap(options: GenerateOptions): MapDocument {
  const random = mulberry32(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const phrase = (): string => {
    const n = 1 + Math.floor(random() * 3);
    const words = Array.from({ length: n }, () => pick(WORDS));
    const text = words.join(' ');
    return text.charAt(0).toUpperCase() + text.slice(1);
  };
  let next = 0;
  const make = (text: string): Topic => ({ id: `g${next++}`, text, children: [] });
  const root = make(options.topics >= 1000 ? `Generated map (${options.topics} topics)` : 'Product launch');
  const all: Topic[] = [root];
  const queue: Topic[] = [];
  const mains = Math.min(options.mainTopics ?? 8, options.topics - 1);
  for (let i = 0; i < mains; i++) {
    const t = make(phrase());
    root.children.push(t);
    all.push(t);
    queue.push(t);
  }
  while (all.length < options.topics && queue.length > 0) {
    const parent = queue.shift()!;
    const n = 2 + Math.floor(random() * 5);
    for (let i = 0; i < n && all.length < options.topics; i++) {
      const t = make(phrase());
      parent.children.push(t);
      all.push(t);
      queue.push(t);
    }
  }
  const doc: MapDocument = {
    schemaVersion: SCHEMA_VERSION,
    title: root.text,
    root,
    floating: [],
    relationships: [],
  };
  if (options.decorate ?? true) decorate(doc, all, random);
  return doc;
}

function decorate(doc: MapDocument, all: Topic[], random: () => number): void {
  const some = (every: number) => all.filter((_, i) => i > 0 && i % every === 3);
  for (const t of some(17)) t.task = { priority: 1 + Math.floor(random() * 3) };
  for (const t of some(23)) t.task = { ...t.task, progress: [0, 25, 50, 75, 100][Math.floor(random() * 5)]! };
  for (const t of some(29)) t.icons = [['flag-red', 'flag-green', 'flag-blue'][Math.floor(random() * 3)]!];
  const deep = all.filter((t) => t.children.length > 0 && !doc.root.children.includes(t) && t !== doc.root);
  for (const t of deep.filter((_, i) => i % 11 === 5)) t.collapsed = true;
  const bounded = doc.root.children.find((t) => t.children.length >= 3);
  if (bounded) bounded.boundaries = [{ id: 'b0', range: { from: 0, to: 1 }, label: 'Phase 1' }];
  const withImage = all[Math.min(all.length - 1, 5)];
  if (withImage && withImage !== doc.root) withImage.image = { ref: 'demo:chart', width: 120, height: 80 };
  const count = Math.max(1, Math.floor(all.length / 150));
  for (let i = 0; i < count; i++) {
    const from = all[1 + Math.floor(random() * (all.length - 1))]!;
    const to = all[1 + Math.floor(random() * (all.length - 1))]!;
    if (from !== to) {
      doc.relationships.push({
        id: `r${i}`,
        fromId: from.id,
        toId: to.id,
        ...(i % 2 === 0 ? { label: 'depends on' } : { dashed: true }),
      });
    }
  }
}

/** A small seeded PRNG, so that generated maps are the same in every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
