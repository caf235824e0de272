import { describe, expect, it } from 'vitest';
import type { MapDocument } from '@canopy/model';
import { exportMap, importMap } from '../index.ts';
import { invariantViolations } from '../test-support/invariants.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('Canopy JSON', () => {
  it('refuses documents that do not match the schema, with the path of the first problem', () => {
    expect(() =>
      importMap(encode({ schemaVersion: 1, title: 'x', root: { id: 'r' } }), { filename: 'x.json' }),
    ).toThrow(/not a Canopy map document: \/(root|floating)/);
  });

  it('repairs what the schema cannot see: duplicate ids, dangling references, ranges, mismatched rich text', () => {
    const document: MapDocument = {
      schemaVersion: 1,
      title: 'broken',
      root: {
        id: 'r',
        text: 'Root',
        links: [{ kind: 'topic', topicId: 'nowhere' }],
        boundaries: [{ id: 'b', range: { from: 0, to: 5 } }],
        children: [
          { id: 'a', text: 'A', richText: [{ text: 'not A' }], children: [] },
          { id: 'a', text: 'A again', children: [] },
        ],
      },
      floating: [],
      relationships: [{ id: 'rel', fromId: 'a', toId: 'ghost' }],
      meta: {},
    };
    const { document: repaired, warnings } = importMap(encode(document), { filename: 'broken.json' });
    expect(invariantViolations(repaired)).toEqual([]);
    expect(repaired.root.children.map((c) => c.text)).toEqual(['A', 'A again']);
    expect(new Set(repaired.root.children.map((c) => c.id)).size).toBe(2);
    expect(repaired.relationships).toEqual([]);
    expect(warnings).toEqual(
      expect.arrayContaining([
        'duplicate ids renamed',
        'topic links to missing topics dropped',
        "boundaries outside their topic's children dropped",
        'rich text whose runs do not spell the topic text dropped',
        'relationships to missing topics dropped',
      ]),
    );
  });

  it('sanitises notes on the way in', () => {
    const document: MapDocument = {
      schemaVersion: 1,
      title: 't',
      floating: [],
      relationships: [],
      root: {
        id: 'r',
        text: 'R',
        notesHtml:
          '<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=y><a href="javascript:alert(1)">j</a></p>',
        children: [],
      },
    };
    const { document: clean } = importMap(encode(document), { filename: 'n.json' });
    expect(clean.root.notesHtml).toBe('<p>hi<a>j</a></p>');
    expect(importMap(exportMap(clean, 'json').data, { filename: 'n.json' }).document).toEqual(clean);
  });
});
