import fc from 'fast-check';
import type { MapDocument, Topic } from '@canopy/model';
import { describe, expect, it } from 'vitest';
import { exportMap, importMap, type ImportFormat } from './index.ts';
import { scriptSafeJson } from './html/html-export.ts';
import { canonicalDocument } from './test-support/canonical.ts';
import { richDocument } from './test-support/sample-documents.ts';

/** What each format can hold of a topic; the rest must be reported as dropped, never silently lost. */
function restrict(document: MapDocument, format: ImportFormat): MapDocument {
  const copy = structuredClone(document);
  const topic = (t: Topic): Topic => {
    const keep: Topic = { id: t.id, text: t.text, children: t.children.map(topic) };
    if (t.notesHtml) keep.notesHtml = t.notesHtml;
    if (format === 'opml') {
      const url = t.links?.find((l) => l.kind === 'url');
      if (url) keep.links = [{ kind: 'url', url: url.url }];
      if (t.collapsed) keep.collapsed = true;
    }
    if (format === 'md') {
      const url = t.links?.find((l) => l.kind === 'url');
      if (url) keep.links = [{ kind: 'url', url: url.url }];
    }
    return keep;
  };
  return { ...copy, root: topic(copy.root), floating: [], relationships: [] };
}

describe('export → import round trips', () => {
  it('json keeps everything, blobs included', () => {
    const { document, blobs } = richDocument();
    const back = importMap(exportMap(document, 'json', { blobs }).data, { filename: 'x.json' });
    expect(back.document).toEqual(document);
    expect([...back.blobs.keys()].sort()).toEqual([...blobs.keys()].sort());
  });

  it('xmind keeps topics, notes, markers, links, labels, images, boundaries, summaries, relationships', () => {
    const { document, blobs } = richDocument();
    const exported = exportMap(document, 'xmind', { blobs });
    const back = importMap(exported.data, { filename: 'x.xmind' });
    const expected = structuredClone(document);
    const a = expected.root.children[0]!;
    a.icons = [...a.icons!, 'priority-2', 'task-half'];
    delete a.task;
    delete a.richText;
    a.links = [{ kind: 'url', url: 'https://example.com/' }];
    delete a.attachments;
    delete a.boundaries![0]!.color;
    delete expected.root.style!.lineColor;
    a.style = { fillColor: '#ffeeaa', lineColor: '#333333', shape: 'rounded-rectangle' };
    expect(canonicalDocument(back.document)).toEqual(canonicalDocument(expected));
    expect(exported.warnings.join('\n')).toMatch(/task dates/);
    expect(exported.warnings.join('\n')).toMatch(/links after the first/);
  });

  for (const format of ['mm', 'opml', 'md'] as const) {
    it(`${format} keeps the tree, text and notes, and reports what it drops`, () => {
      const { document, blobs } = richDocument();
      const exported = exportMap(document, format, { blobs });
      const back = importMap(exported.data, { filename: `x.${format}` });
      const got = restrict(back.document, format);
      const want = restrict(document, format);
      if (format !== 'mm') {
        // Plain-text notes: formatting is reported as dropped.
        const strip = (t: Topic): void => {
          if (t.notesHtml)
            t.notesHtml = t.notesHtml
              .replace(/<\/(p|li)>|<br\/>/g, ' ')
              .replace(/<[^>]*>/g, '')
              .replace(/(^|\s)- /g, ' ')
              .replace(/\s+/g, ' ')
              .trim();
          if (format === 'md') t.text = t.text.replace(/\n/g, ' ');
          t.children.forEach(strip);
        };
        strip(got.root);
        strip(want.root);
      }
      expect(canonicalDocument(got)).toEqual(canonicalDocument(want));
      expect(exported.warnings.length).toBeGreaterThan(0);
    });
  }

  it('FreeMind keeps icons, links, colours, collapsed state and arrow links', () => {
    const { document } = richDocument();
    const back = importMap(exportMap(document, 'mm').data, { filename: 'x.mm' }).document;
    const a = back.root.children[0]!;
    expect(a.icons).toEqual(['flag-red', 'smiley-happy']);
    expect(a.collapsed).toBe(true);
    expect(a.tags).toEqual(['urgent', 'q1']);
    expect(back.relationships.map((r) => [r.label, r.dashed])).toEqual([['depends on', true]]);
  });
});

const text = fc.string({
  maxLength: 12,
  unit: fc.constantFrom('a', 'b', ' ', '<', '>', '&', '"', "'", 'é', '中', '😀', '\n', ']'),
});
const topicAt = (depth: number): fc.Arbitrary<Gen> =>
  fc.record({
    text: text,
    notes: fc.option(text, { nil: undefined }),
    collapsed: fc.boolean(),
    icons: fc.subarray(['flag-red', 'smiley-happy', 'check', 'lightbulb']),
    children: depth > 0 ? fc.array(topicAt(depth - 1), { maxLength: 3 }) : fc.constant([]),
  });
const topicArb = topicAt(3);

type Gen = { text: string; notes: string | undefined; collapsed: boolean; icons: string[]; children: Gen[] };

function toDocument(gen: Gen): MapDocument {
  let n = 0;
  const topic = (g: Gen, depth: number): Topic => {
    const t: Topic = { id: `g${n++}`, text: g.text, children: g.children.map((c) => topic(c, depth + 1)) };
    if (g.notes && g.notes.trim())
      t.notesHtml = `<p>${g.notes.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br/>')}</p>`;
    if (g.collapsed && t.children.length) t.collapsed = true;
    if (g.icons.length) t.icons = g.icons;
    return t;
  };
  const root = topic(gen, 0);
  const ids: string[] = [];
  const walk = (t: Topic): void => {
    ids.push(t.id);
    t.children.forEach(walk);
  };
  walk(root);
  const relationships = ids.length > 2 ? [{ id: 'rel', fromId: ids[1]!, toId: ids[ids.length - 1]! }] : [];
  return { schemaVersion: 1, title: 'generated', root, floating: [], relationships };
}

describe('round trips on generated documents (property)', () => {
  for (const format of ['mmap', 'xmind', 'json', 'mm'] as const) {
    it(`${format}: topics, text, notes, icons, collapsed state and relationships survive`, () => {
      fc.assert(
        fc.property(topicArb, (gen) => {
          const document = toDocument(gen);
          const back = importMap(exportMap(document, format).data, { filename: `g.${format}` }).document;
          expect(canonicalDocument(back)).toEqual(canonicalDocument(document));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('html: map text can never close the data <script> element', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const json = scriptSafeJson({ s });
        expect(json.toLowerCase()).not.toContain('</script');
        expect(json).not.toContain('<!--');
        expect(JSON.parse(json)).toEqual({ s });
      }),
    );
  });
});

type RichGen = {
  text: string;
  tags: string[];
  priority: number | undefined;
  progress: number | undefined;
  url: string | undefined;
  linkToRoot: boolean;
  fill: string | undefined;
  children: RichGen[];
};
const richAt = (depth: number): fc.Arbitrary<RichGen> =>
  fc.record({
    text,
    tags: fc.uniqueArray(fc.constantFrom('red', 'q1', 'a & b', '<x>'), { maxLength: 3 }),
    priority: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
    progress: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    url: fc.option(fc.webUrl(), { nil: undefined }),
    linkToRoot: fc.boolean(),
    fill: fc.option(fc.stringMatching(/^#[0-9a-f]{6}$/), { nil: undefined }),
    children: depth > 0 ? fc.array(richAt(depth - 1), { maxLength: 3 }) : fc.constant([]),
  });

function toRichDocument(gen: RichGen): MapDocument {
  let n = 0;
  const topic = (g: RichGen, isRoot: boolean): Topic => {
    const t: Topic = { id: `g${n++}`, text: g.text, children: g.children.map((c) => topic(c, false)) };
    if (g.tags.length) t.tags = g.tags;
    if (g.priority !== undefined || g.progress !== undefined) {
      t.task = {};
      if (g.priority !== undefined) t.task.priority = g.priority;
      if (g.progress !== undefined) t.task.progress = g.progress;
    }
    const links: NonNullable<Topic['links']> = [];
    if (g.url) links.push({ kind: 'url', url: g.url });
    if (g.linkToRoot && !isRoot) links.push({ kind: 'topic', topicId: 'g0' });
    if (links.length) t.links = links;
    if (g.fill) t.style = { fillColor: g.fill };
    return t;
  };
  return {
    schemaVersion: 1,
    title: 'rich generated',
    root: topic(gen, true),
    floating: [],
    relationships: [],
  };
}

describe('round trips of tasks, labels, links and colours on generated documents (property)', () => {
  for (const format of ['mmap', 'json'] as const) {
    it(`${format} keeps them all`, () => {
      fc.assert(
        fc.property(richAt(3), (gen) => {
          const document = toRichDocument(gen);
          const back = importMap(exportMap(document, format).data, { filename: `g.${format}` }).document;
          expect(canonicalDocument(back)).toEqual(canonicalDocument(document));
        }),
        { numRuns: 60 },
      );
    });
  }
});
