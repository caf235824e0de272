import type { MapDocument, Topic } from '@canopy/model';

/** Every topic of a snapshot by id, summary topics included. */
export type TopicsById = ReadonlyMap<string, Topic>;

export interface SharedSnapshot {
  readonly doc: MapDocument;
  readonly topics: TopicsById;
}

/**
 * Makes a freshly projected document share every unchanged part with the previous one.
 *
 * The model rebuilds the whole JSON view on each change (its topics are new objects every time), but the renderer
 * caches per topic object (text layout, scene boxes) and React compares snapshots by reference. This pass keeps
 * the previous object for every topic whose fields and subtree are unchanged, so a remote keystroke in one topic
 * costs one new topic plus the path above it, as a local edit does in the memory store. It is O(topics), with
 * cheap comparisons: unchanged fields are usually the very same values (the model reuses the fields it read).
 *
 * Returns `previous` itself when nothing visible changed.
 */
export function shareUnchanged(previous: SharedSnapshot, next: MapDocument): SharedSnapshot {
  const topics = new Map<string, Topic>();
  const topic = (t: Topic): Topic => shareTopic(t, previous.topics, topics);
  const root = topic(next.root);
  const snapshot = shareDocument(previous.doc, next, root, next.floating.map(topic));
  return { doc: snapshot, topics };
}

/** The first snapshot: nothing to share with, only the index to build. */
export function firstSnapshot(doc: MapDocument): SharedSnapshot {
  return shareUnchanged({ doc, topics: new Map() }, doc);
}

function shareDocument(
  previous: MapDocument,
  next: MapDocument,
  root: Topic,
  floatingNext: Topic[],
): MapDocument {
  const floating = shareList(previous.floating, floatingNext);
  const relationships = sameJson(previous.relationships, next.relationships)
    ? previous.relationships
    : next.relationships;
  const meta = sameJson(previous.meta, next.meta) ? previous.meta : next.meta;
  if (
    root === previous.root &&
    floating === previous.floating &&
    relationships === previous.relationships &&
    meta === previous.meta &&
    next.title === previous.title &&
    next.schemaVersion === previous.schemaVersion
  ) {
    return previous;
  }
  const doc: MapDocument = { ...next, root, floating, relationships };
  if (meta === undefined) delete doc.meta;
  else doc.meta = meta;
  return doc;
}

/**
 * Post-order: a topic is kept when its fields are equal and every child came back as the very same object.
 * Recursive: the model limits depth to MAX_TOPIC_DEPTH (256), far below the stack's limit. Nothing is allocated
 * for a kept topic, which is nearly all of them. A changed topic whose children all came back as the model's
 * own objects is the model's object itself (the model never mutates a view it handed out), so the first
 * snapshot of a map copies nothing.
 */
function shareTopic(t: Topic, previousTopics: TopicsById, topics: Map<string, Topic>): Topic {
  const old = previousTopics.get(t.id);
  const count = t.children.length;
  const children: Topic[] = new Array<Topic>(count);
  let sameChildren = old !== undefined && old.children.length === count;
  let ownChildren = true;
  for (let i = 0; i < count; i++) {
    const child = shareTopic(t.children[i]!, previousTopics, topics);
    children[i] = child;
    if (sameChildren && child !== old!.children[i]) sameChildren = false;
    if (child !== t.children[i]) ownChildren = false;
  }
  let summaries: Topic['summaries'];
  let sameSummaries = (old?.summaries?.length ?? 0) === (t.summaries?.length ?? 0);
  if (t.summaries) {
    summaries = t.summaries.map((s, i) => {
      const topic = shareTopic(s.topic, previousTopics, topics);
      if (topic !== s.topic) ownChildren = false;
      const was = old?.summaries?.[i];
      if (!was || was.topic !== topic || was.id !== s.id || !sameJson(was.range, s.range))
        sameSummaries = false;
      return { ...s, topic };
    });
  }
  if (old && sameChildren && sameSummaries && sameFields(old, t)) {
    topics.set(old.id, old);
    return old;
  }
  let made: Topic;
  if (ownChildren && !sameChildren) {
    made = t;
  } else {
    made = { ...t, children: sameChildren ? old!.children : children };
    if (summaries) made.summaries = sameSummaries ? old!.summaries! : summaries;
  }
  topics.set(made.id, made);
  return made;
}

function shareList<T>(previous: readonly T[] | undefined, next: T[]): T[] {
  if (previous && previous.length === next.length && next.every((item, i) => item === previous[i])) {
    return previous as T[];
  }
  return next;
}

/** The same own fields, structure (children, summaries) aside. */
function sameFields(old: Topic, next: Topic): boolean {
  let keys = 0;
  for (const key in next) {
    if (key === 'children' || key === 'summaries') continue;
    keys++;
    if (!sameJson(old[key as keyof Topic], next[key as keyof Topic])) return false;
  }
  for (const key in old) if (key !== 'children' && key !== 'summaries') keys--;
  return keys === 0;
}

/** Deep equality of JSON values (the document holds nothing else). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every(
    (k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
