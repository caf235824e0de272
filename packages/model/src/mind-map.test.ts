import { describe, expect, it } from 'vitest';
import { DOCUMENT_SCHEMA_VERSION, type MapDocument, type Topic } from './document.ts';
import { checkInvariants } from './invariants.ts';
import { MindMap } from './mind-map.ts';
import { loroHeapSize } from './loro-heap.ts';
import { ModelError } from './errors.ts';
import { MAX_NOTES_LENGTH, MAX_TEXT_LENGTH, MAX_TOPIC_DEPTH } from './limits.ts';

const sample = (): MapDocument => ({
  schemaVersion: DOCUMENT_SCHEMA_VERSION,
  title: 'Plan',
  meta: { author: 'ada' },
  root: {
    id: 'c',
    text: 'Central',
    richText: [{ text: 'Cen', bold: true }, { text: 'tral' }],
    notesHtml: '<p>note</p>',
    style: { fillColor: '#ff0000', shape: 'ellipse' },
    boundaries: [{ id: 'b1', range: { from: 0, to: 1 }, label: 'both' }],
    summaries: [{ id: 's1', range: { from: 0, to: 1 }, topic: { id: 'st', text: 'Sum', children: [] } }],
    children: [
      {
        id: 'a',
        text: 'A',
        links: [
          { kind: 'url', url: 'https://example.org' },
          { kind: 'topic', topicId: 'b' },
        ],
        icons: ['priority-1', 'flag-red'],
        task: { priority: 2, progress: 50, resources: ['ada'] },
        tags: ['x'],
        children: [{ id: 'a1', text: 'A1', collapsed: true, children: [] }],
      },
      {
        id: 'b',
        text: 'B',
        image: { ref: 'sha256:00', mimeType: 'image/png', width: 10, height: 5 },
        attachments: [{ ref: 'sha256:11', name: 'doc.pdf', size: 3 }],
        position: { x: 1, y: -2 },
        children: [],
      },
    ],
  },
  floating: [{ id: 'f', text: 'Floating', position: { x: 100, y: 100 }, children: [] }],
  relationships: [{ id: 'r1', fromId: 'a', toId: 'b', label: 'needs', dashed: true, color: '#000000' }],
});

describe('MindMap JSON round trip', () => {
  it('gives back the document it was built from', () => {
    const map = MindMap.fromJSON(sample());
    expect(map.toJSON()).toEqual(sample());
    expect(checkInvariants(map.toJSON())).toEqual([]);
  });

  it('survives a snapshot', () => {
    const map = MindMap.fromJSON(sample());
    const loaded = MindMap.fromSnapshot(map.exportSnapshot());
    if (!loaded.ok) throw loaded.error;
    expect(loaded.value.toJSON()).toEqual(sample());
  });

  it('gives back a large document (its seed reserves the WebAssembly heap first) and stays editable', () => {
    let next = 0;
    const root: Topic = { id: 't0', text: 'central', children: [] };
    const queue = [root];
    for (let parent = queue.shift(); parent && next < 2_100; parent = queue.shift()) {
      for (let i = 0; i < 5 && next < 2_100; i++) {
        next++;
        const child: Topic = { id: `t${next}`, text: `topic ${next}`, children: [] };
        if (next % 7 === 0) child.notesHtml = `<p>${next}</p>`;
        parent.children.push(child);
        queue.push(child);
      }
    }
    const input = (): MapDocument => ({ ...sample(), root: structuredClone(root), relationships: [] });
    const map = MindMap.fromJSON(input());
    expect(map.toJSON()).toEqual(input());
    expect(map.topicCount()).toBe(2_102);
    const added = map.addTopic('t1', 0, { text: 'new' });
    expect(map.topic('t1')?.children[0]?.id).toBe(added);
  });

  it('refuses a document with duplicate topic ids', () => {
    const doc = sample();
    doc.floating[0]!.id = 'a';
    expect(() => MindMap.fromJSON(doc)).toThrowError(
      expect.objectContaining({ code: 'invalid-document' }) as Error,
    );
  });
});

describe('MindMap operations', () => {
  it('adds, moves, reorders and deletes topics', () => {
    const map = MindMap.create('Trip');
    const root = map.centralTopicId();
    const x = map.addTopic(root, undefined, { text: 'x' });
    const y = map.addTopic(root, undefined, { text: 'y' });
    const z = map.addTopic(root, 0, { text: 'z' });
    expect(map.toJSON().root.children.map((t) => t.text)).toEqual(['z', 'x', 'y']);
    map.reorder(z, 2);
    expect(map.toJSON().root.children.map((t) => t.text)).toEqual(['x', 'y', 'z']);
    map.moveTopic(y, x, 0);
    expect(map.toJSON().root.children.map((t) => t.text)).toEqual(['x', 'z']);
    expect(map.toJSON().root.children[0]!.children.map((t) => t.text)).toEqual(['y']);
    expect(map.topic(y)).toBe(map.toJSON().root.children[0]!.children[0]);
    map.moveTopic(z, null);
    expect(map.toJSON().floating.map((t) => t.text)).toEqual(['z']);
    map.deleteTopic(x);
    expect(map.hasTopic(y)).toBe(false);
    expect(map.toJSON().root.children).toEqual([]);
    expect(map.topicCount()).toBe(2);
  });

  it('refuses to move a topic into its own subtree or to delete the central topic', () => {
    const map = MindMap.create('m');
    const a = map.addTopic(map.centralTopicId());
    const b = map.addTopic(a);
    expect(() => map.moveTopic(a, b)).toThrow(ModelError);
    expect(() => map.deleteTopic(map.centralTopicId())).toThrow(ModelError);
    expect(() => map.moveTopic(map.centralTopicId(), a)).toThrow(ModelError);
    expect(() => map.setText('nope', 'x')).toThrowError(
      expect.objectContaining({ code: 'topic-not-found' }) as Error,
    );
  });

  it('sets every kind of field', () => {
    const map = MindMap.create('m');
    const t = map.addTopic(map.centralTopicId(), undefined, { text: 'hello' });
    map.editText(t, 5, 0, ' world');
    map.setRichText(t, [
      { text: 'hello ', italic: true },
      { text: 'world', color: '#00ff00' },
    ]);
    map.setNotes(t, '<p>n</p>');
    map.addIcon(t, 'flag-red');
    map.addIcon(t, 'flag-red');
    map.addTag(t, 'a');
    map.addTag(t, 'b');
    map.removeTag(t, 'a');
    map.updateTask(t, { priority: 3 });
    map.updateTask(t, { progress: 10 });
    map.updateStyle(t, { bold: true });
    map.setCollapsed(t, true);
    map.setPosition(t, { x: 1, y: 2 });
    map.setImage(t, { ref: 'sha256:aa' });
    map.setLinks(t, [{ kind: 'url', url: 'https://a.example' }]);
    map.setAttachments(t, [{ ref: 'sha256:bb', name: 'f' }]);
    const topic = map.toJSON().root.children[0]!;
    expect(topic).toMatchObject({
      text: 'hello world',
      richText: [
        { text: 'hello ', italic: true },
        { text: 'world', color: '#00ff00' },
      ],
      notesHtml: '<p>n</p>',
      icons: ['flag-red'],
      tags: ['b'],
      task: { priority: 3, progress: 10 },
      style: { bold: true },
      collapsed: true,
      position: { x: 1, y: 2 },
      image: { ref: 'sha256:aa' },
      links: [{ kind: 'url', url: 'https://a.example' }],
      attachments: [{ ref: 'sha256:bb', name: 'f' }],
    });
    map.setRichText(t, undefined);
    map.setNotes(t, undefined);
    map.setTask(t, undefined);
    const plain = map.toJSON().root.children[0]!;
    expect(plain.richText).toBeUndefined();
    expect(plain.notesHtml).toBeUndefined();
    expect(plain.task).toBeUndefined();
    expect(() => map.updateTask(t, { priority: 12 })).toThrowError(
      expect.objectContaining({ code: 'invalid-field' }) as Error,
    );
  });

  it('keeps boundaries, summaries and relationships', () => {
    const map = MindMap.create('m');
    const root = map.centralTopicId();
    const a = map.addTopic(root, undefined, { text: 'a' });
    const b = map.addTopic(root, undefined, { text: 'b' });
    const boundary = map.addBoundary(root, { range: { from: 0, to: 1 }, label: 'all' });
    const summary = map.addSummary(root, { from: 0, to: 1 }, { text: 'sum' });
    const c = map.addTopic(root, 5, { text: 'c' });
    expect(map.toJSON().root.children.map((t) => t.text)).toEqual(['a', 'b', 'c']);
    expect(map.toJSON().root.summaries).toEqual([
      {
        id: summary.summaryId,
        range: { from: 0, to: 1 },
        topic: { id: summary.topicId, text: 'sum', children: [] },
      },
    ]);
    map.updateBoundary(root, boundary, { range: { from: 1, to: 2 } });
    map.setSummaryRange(summary.topicId, { from: 2, to: 2 });
    expect(map.toJSON().root.boundaries).toEqual([{ id: boundary, range: { from: 1, to: 2 }, label: 'all' }]);
    expect(map.toJSON().root.summaries?.[0]?.range).toEqual({ from: 2, to: 2 });
    const r = map.addRelationship({ fromId: a, toId: c, label: 'x' });
    map.updateRelationship(r, { label: 'y' });
    expect(map.toJSON().relationships).toEqual([{ id: r, fromId: a, toId: c, label: 'y' }]);
    map.deleteTopic(c);
    expect(map.toJSON().relationships).toEqual([]);
    expect(map.toJSON().root.boundaries).toEqual([{ id: boundary, range: { from: 1, to: 1 }, label: 'all' }]);
    expect(map.toJSON().root.summaries?.[0]?.range).toEqual({ from: 1, to: 1 });
    expect(checkInvariants(map.toJSON())).toEqual([]);
    map.removeBoundary(root, boundary);
    map.deleteTopic(summary.topicId);
    expect(map.toJSON().root.summaries).toBeUndefined();
    expect(b).toBeTypeOf('string');
  });

  it('tells subscribers about local changes and sends local updates', () => {
    const map = MindMap.create('m');
    const sources: string[] = [];
    const updates: Uint8Array[] = [];
    map.subscribe((change) => sources.push(change.source));
    map.onLocalUpdate((update) => updates.push(update));
    map.batch(() => {
      map.setTitle('new');
      map.addTopic(map.centralTopicId());
    });
    expect(sources).toEqual(['local']);
    expect(updates).toHaveLength(1);
    expect(map.toJSON().title).toBe('new');
  });
});

describe('limits and guards', () => {
  it('refuses topics nested deeper than MAX_TOPIC_DEPTH and texts longer than MAX_TEXT_LENGTH', () => {
    const map = MindMap.create('deep');
    let parent = map.centralTopicId();
    map.batch(() => {
      for (let depth = 2; depth <= MAX_TOPIC_DEPTH; depth++) parent = map.addTopic(parent);
    });
    expect(() => map.addTopic(parent)).toThrowError(
      expect.objectContaining({ code: 'limit-exceeded' }) as Error,
    );
    const leaf = map.addTopic(map.centralTopicId());
    expect(() => map.setText(leaf, 'x'.repeat(MAX_TEXT_LENGTH + 1))).toThrowError(
      expect.objectContaining({ code: 'invalid-field' }) as Error,
    );
    map.setText(leaf, 'x'.repeat(MAX_TEXT_LENGTH));
    expect(() => map.editText(leaf, 0, 0, 'y')).toThrowError(
      expect.objectContaining({ code: 'limit-exceeded' }) as Error,
    );
  });

  it('refuses a JSON document over the limits or from a newer schema', () => {
    const tooLong = sample();
    tooLong.root.children[0]!.notesHtml = 'n'.repeat(MAX_NOTES_LENGTH + 1);
    expect(() => MindMap.fromJSON(tooLong)).toThrowError(
      expect.objectContaining({ code: 'limit-exceeded' }) as Error,
    );
    expect(() => MindMap.fromJSON({ ...sample(), schemaVersion: DOCUMENT_SCHEMA_VERSION + 1 })).toThrowError(
      expect.objectContaining({ code: 'unsupported-schema-version' }) as Error,
    );
  });

  it('refuses an invalid peer id and keeps undo history per peer id', () => {
    expect(() => MindMap.create('p', { peerId: -1 })).toThrowError(
      expect.objectContaining({ code: 'invalid-peer-id' }) as Error,
    );
    const map = MindMap.create('p', { peerId: 5n });
    expect(map.peerId()).toBe('5');
    map.addTopic(map.centralTopicId());
    map.setPeerId(6);
    expect(map.peerId()).toBe('6');
    expect(map.canUndo()).toBe(false);
  });
});

describe('free', () => {
  // A full collection on demand (vitest.config.ts exposes it), so that what is left is what nothing can free.
  const collect = () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc (vitest.config.ts)');
    gc();
  };

  it("gives a map's memory back: maps opened and freed one after another reuse it", async () => {
    const big = MindMap.create('big');
    for (let i = 0; i < 500; i++)
      big.addTopic(big.centralTopicId(), undefined, { text: `topic ${i} `.repeat(20) });
    const snapshot = big.exportSnapshot();
    big.free();
    const sizes: number[] = [];
    for (let k = 0; k < 14; k++) {
      const opened = MindMap.fromSnapshot(snapshot, { peerId: BigInt(100 + k) });
      if (!opened.ok) throw opened.error;
      const map = opened.value;
      const updates: Uint8Array[] = [];
      const off = map.onLocalUpdate((u) => updates.push(u));
      const topic = map.addTopic(map.centralTopicId(), undefined, { text: 'x' });
      for (let i = 0; i < 20; i++) map.editText(topic, 0, 0, 'y');
      const other = MindMap.fromSnapshot(snapshot, { peerId: BigInt(200 + k) });
      if (!other.ok) throw other.error;
      for (const u of updates) expect(other.value.importUpdates(u).ok).toBe(true);
      expect(other.value.topic(topic)?.text).toBe('y'.repeat(20) + 'x');
      off();
      map.free();
      other.value.free();
      map.free(); // idempotent
      collect();
      await new Promise((resolve) => setTimeout(resolve, 0));
      sizes.push(loroHeapSize()!);
    }
    // Loro lets a document go once every handle on it is freed, and short-lived handles wait for the garbage
    // collector's finalisers: the heap grows for the first few pairs (~6 MB each), then the pairs reuse it
    // (grew 4-6 times of 13 in runs here). Without free() Loro holds each map's listeners, and through them the
    // map: the heap grows by a pair every time, collections or not.
    const grew = sizes.slice(1).filter((size, i) => size > sizes[i]!).length;
    expect(grew).toBeLessThanOrEqual(8);
  });
});
