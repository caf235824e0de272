/** Documents used by tests and benchmarks. */
import type { MapDocument, Topic } from '@canopy/model';
import type { BlobData } from '../shared/blobs.ts';
import { solidPng } from '../shared/png.ts';
import { sha256, toHex } from '../shared/sha256.ts';

function blob(data: Uint8Array, mimeType: string): { ref: string; blob: BlobData } {
  return { ref: `sha256:${toHex(sha256(data))}`, blob: { data, mimeType } };
}

/** One of everything the model can say, with text that tries to break out of XML, HTML and JSON. */
export function richDocument(): { document: MapDocument; blobs: Map<string, BlobData> } {
  const png = blob(solidPng(4, 3, [200, 30, 30]), 'image/png');
  const pdf = blob(new TextEncoder().encode('%PDF-1.4 not really'), 'application/pdf');
  const leaf = (id: string, text: string, extra: Partial<Topic> = {}): Topic => ({
    id,
    text,
    children: [],
    ...extra,
  });
  const document: MapDocument = {
    schemaVersion: 1,
    title: 'Rich <map> & "quotes"',
    root: {
      id: 'root',
      text: 'Central </script><script>alert(1)</script>',
      style: { fillColor: '#f4f4f4', textColor: '#1e1e1e', fontFamily: 'Segoe UI', fontSize: 14, bold: true },
      children: [
        {
          id: 'a',
          text: 'Alpha bold',
          richText: [{ text: 'Alpha ' }, { text: 'bold', bold: true, color: '#ff0000' }],
          notesHtml:
            '<p>Note with <b>bold</b>, <a href="https://example.com/x?a=1&amp;b=2">a link</a></p><ul><li>one</li><li>two</li></ul>',
          links: [
            { kind: 'url', url: 'https://example.com/', title: 'Example' },
            { kind: 'topic', topicId: 'c1' },
          ],
          icons: ['flag-red', 'smiley-happy'],
          task: {
            priority: 2,
            progress: 50,
            startDate: '2026-01-05T09:00:00Z',
            dueDate: '2026-02-01T17:00:00Z',
            durationMinutes: 90,
            resources: ['Ann', 'Bob'],
          },
          tags: ['urgent', 'q1'],
          image: { ref: png.ref, mimeType: 'image/png', size: png.blob.data.length, width: 40, height: 30 },
          attachments: [
            { ref: pdf.ref, mimeType: 'application/pdf', size: pdf.blob.data.length, name: 'spec.pdf' },
          ],
          style: { fillColor: '#ffeeaa', lineColor: '#333333', shape: 'rounded-rectangle' },
          collapsed: true,
          children: [leaf('a1', 'Alpha one'), leaf('a2', 'Alpha two & <three>')],
          boundaries: [{ id: 'b1', range: { from: 0, to: 0 }, color: '#00aa00' }],
          summaries: [{ id: 's1', range: { from: 1, to: 1 }, topic: leaf('s1t', 'Summary of two') }],
        },
        {
          id: 'b',
          text: 'Beta\nsecond line',
          children: [
            {
              id: 'c1',
              text: 'Gamma ünïcödé 中文 😀',
              notesHtml: '<p>]]&gt; &lt;/script&gt;</p>',
              children: [],
            },
          ],
        },
      ],
    },
    floating: [
      { id: 'f1', text: 'Floating', position: { x: 120, y: -80 }, children: [leaf('f1a', 'Under floating')] },
    ],
    relationships: [
      { id: 'r1', fromId: 'a1', toId: 'c1', label: 'depends on', color: '#0000ff', dashed: true },
      { id: 'r2', fromId: 'f1', toId: 'root' },
    ],
    meta: { author: 'test' },
  };
  return {
    document,
    blobs: new Map([
      [png.ref, png.blob],
      [pdf.ref, pdf.blob],
    ]),
  };
}

/** A balanced map of `count` topics (fan-out 8) with some notes, icons and links, for benchmarks. */
export function generatedDocument(count: number): MapDocument {
  let next = 0;
  const make = (depth: number): Topic => {
    const n = next++;
    const topic: Topic = { id: `n${n}`, text: `Topic ${n} with some text`, children: [] };
    if (n % 10 === 3) topic.notesHtml = `<p>Note for topic ${n}</p>`;
    if (n % 7 === 2) topic.icons = ['flag-red'];
    if (n % 13 === 5) topic.links = [{ kind: 'url', url: `https://example.com/${n}` }];
    void depth;
    return topic;
  };
  const root = make(0);
  const queue: Topic[] = [root];
  for (let i = 0; next < count; i++) {
    const parent = queue[i]!;
    for (let k = 0; k < 8 && next < count; k++) {
      const child = make(0);
      parent.children.push(child);
      queue.push(child);
    }
  }
  return { schemaVersion: 1, title: `Generated ${count}`, root, floating: [], relationships: [] };
}
