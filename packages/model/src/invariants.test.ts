import { describe, expect, it } from 'vitest';
import { DOCUMENT_SCHEMA_VERSION, type MapDocument, type Topic } from './document.ts';
import { checkInvariants, type InvariantRule } from './invariants.ts';

const topic = (id: string, children: Topic[] = []): Topic => ({ id, text: id, children });
const doc = (root: Topic, extra: Partial<MapDocument> = {}): MapDocument => ({
  schemaVersion: DOCUMENT_SCHEMA_VERSION,
  title: 't',
  root,
  floating: [],
  relationships: [],
  ...extra,
});
const rules = (d: MapDocument): InvariantRule[] => checkInvariants(d).map((v) => v.rule);

describe('checkInvariants', () => {
  it('accepts a sound document', () => {
    expect(checkInvariants(doc(topic('c', [topic('a'), topic('b')])))).toEqual([]);
  });

  it('reports schema errors', () => {
    expect(rules({ ...doc(topic('c')), title: 3 } as unknown as MapDocument)).toContain('schema');
  });

  it('reports a topic reached twice and a cycle', () => {
    const shared = topic('s');
    expect(rules(doc(topic('c', [shared, shared])))).toContain('reachable-once');
    const loop = topic('loop');
    loop.children.push(loop);
    expect(rules(doc(topic('c', [loop])))).toContain('reachable-once');
  });

  it('reports duplicate ids across the tree, floating and summary topics', () => {
    expect(rules(doc(topic('c', [topic('a')]), { floating: [topic('a')] }))).toEqual(['unique-topic-id']);
    const root = topic('c', [topic('a')]);
    root.summaries = [{ id: 's', range: { from: 0, to: 0 }, topic: topic('c') }];
    expect(rules(doc(root))).toEqual(['unique-topic-id']);
  });

  it('reports rich runs that do not spell the text', () => {
    const root = topic('c');
    root.richText = [{ text: 'x' }];
    expect(rules(doc(root))).toEqual(['rich-text']);
  });

  it('reports ranges outside the children', () => {
    const root = topic('c', [topic('a')]);
    root.boundaries = [{ id: 'b', range: { from: 0, to: 1 } }];
    expect(rules(doc(root))).toEqual(['range']);
  });

  it('reports relationships to missing topics and duplicate relationship ids', () => {
    const relationships = [
      { id: 'r', fromId: 'c', toId: 'gone' },
      { id: 'r', fromId: 'c', toId: 'c' },
    ];
    expect(rules(doc(topic('c'), { relationships }))).toEqual(['relationship', 'relationship']);
  });
});
