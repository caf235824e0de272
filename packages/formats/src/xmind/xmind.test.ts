import { unzipSync, zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FormatError, importMap } from '../index.ts';
import { forEachTopic } from '../shared/document-builder.ts';
import { readFixture } from '../test-support/fixtures.ts';

type Json = Record<string, unknown>;

/** Counts what content.json holds, walking the raw JSON (every sheet, every kind of child). */
function countContentJson(sheets: Json[]) {
  const counts = {
    topics: 0,
    texts: [] as string[],
    notes: 0,
    markers: 0,
    links: 0,
    labels: 0,
    images: 0,
    relationships: 0,
  };
  const walk = (topic: Json): void => {
    counts.topics++;
    counts.texts.push(typeof topic.title === 'string' ? topic.title : '');
    if (topic.notes) counts.notes++;
    counts.markers += (topic.markers as unknown[] | undefined)?.length ?? 0;
    if (typeof topic.href === 'string' && !topic.href.startsWith('xap:')) counts.links++;
    counts.labels += (topic.labels as unknown[] | undefined)?.length ?? 0;
    if (topic.image) counts.images++;
    for (const list of Object.values((topic.children as Record<string, Json[]> | undefined) ?? {}))
      list.forEach(walk);
  };
  for (const sheet of sheets) {
    walk(sheet.rootTopic as Json);
    counts.relationships += (sheet.relationships as unknown[] | undefined)?.length ?? 0;
  }
  return counts;
}

function countImported(result: ReturnType<typeof importMap>) {
  const counts = {
    topics: 0,
    texts: [] as string[],
    notes: 0,
    markers: 0,
    links: 0,
    labels: 0,
    images: 0,
    relationships: result.document.relationships.length,
  };
  forEachTopic(result.document, (t) => {
    counts.topics++;
    counts.texts.push(t.text);
    if (t.notesHtml) counts.notes++;
    counts.markers += t.icons?.length ?? 0;
    counts.links += t.links?.length ?? 0;
    counts.labels += t.tags?.length ?? 0;
    if (t.image) counts.images++;
  });
  return counts;
}

describe('XMind', () => {
  it('imports the XMind 2020 fixture with every topic, marker, image and relationship of every sheet', () => {
    const bytes = readFixture('xmind/example0.xmind');
    const sheets = JSON.parse(new TextDecoder().decode(unzipSync(bytes)['content.json'])) as Json[];
    const expected = countContentJson(sheets);
    expect(expected.topics).toBeGreaterThan(0);
    const result = importMap(bytes, { filename: 'example0.xmind' });
    const actual = countImported(result);
    expect({ ...actual, texts: actual.texts.sort() }).toEqual({ ...expected, texts: expected.texts.sort() });
    expect(result.blobs.size).toBe(expected.images);
    expect(result.warnings).toContain('sheets after the first imported as floating topics');
  });

  it('reads legacy content.xml (XMind 8)', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><xmap-content xmlns="urn:xmind:xmap:xmlns:content:2.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xhtml="http://www.w3.org/1999/xhtml" version="2.0">
      <sheet id="s1"><topic id="t0"><title>Root</title><children><topics type="attached">
        <topic id="t1" branch="folded" xlink:href="https://example.com"><title>One</title><marker-refs><marker-ref marker-id="flag-red"/></marker-refs>
          <labels><label>L1</label></labels><notes><plain>plain</plain><html><xhtml:p>Hello <xhtml:strong>there</xhtml:strong></xhtml:p></html></notes>
          <children><topics type="attached"><topic id="t2"><title>Two</title></topic></topics></children></topic>
        <topic id="t3" xlink:href="xmind:#t2"><title>Three</title></topic>
      </topics><topics type="detached"><topic id="t4"><title>Float</title></topic></topics></children></topic>
      <relationships><relationship id="r1" end1="t1" end2="t3"><title>rel</title></relationship></relationships><title>Sheet</title></sheet></xmap-content>`;
    const bytes = zipSync({ 'content.xml': strToU8(xml) });
    const { document } = importMap(bytes, { filename: 'legacy.xmind' });
    const one = document.root.children[0]!;
    expect(one).toMatchObject({
      text: 'One',
      collapsed: true,
      icons: ['flag-red'],
      tags: ['L1'],
      links: [{ kind: 'url', url: 'https://example.com' }],
      notesHtml: '<p>Hello <b>there</b></p>',
    });
    expect(document.root.children[1]!.links).toEqual([{ kind: 'topic', topicId: 't2' }]);
    expect(document.floating.map((f) => f.text)).toEqual(['Float']);
    expect(document.relationships).toEqual([{ id: 'r1', fromId: 't1', toId: 't3', label: 'rel' }]);
  });

  it('reports a password-protected file as password_protected', () => {
    const manifest = {
      'file-entries': { 'content.json': { 'encryption-data': { 'algorithm-name': 'AES/CBC/PKCS5Padding' } } },
    };
    const bytes = zipSync({
      'content.json': new Uint8Array([1, 2, 3, 4]),
      'manifest.json': strToU8(JSON.stringify(manifest)),
    });
    expect(() => importMap(bytes, { filename: 'secret.xmind' })).toThrow(
      expect.objectContaining({ code: 'password_protected' }),
    );
    const legacy = zipSync({
      'content.xml': new Uint8Array([9, 9, 9]),
      'META-INF/manifest.xml': strToU8(
        '<manifest><file-entry full-path="content.xml"><encryption-data checksum="x"/></file-entry></manifest>',
      ),
    });
    expect(() => importMap(legacy, { filename: 'secret.xmind' })).toThrow(FormatError);
    expect(() => importMap(legacy, { filename: 'secret.xmind' })).toThrow(
      expect.objectContaining({ code: 'password_protected' }),
    );
  });
});
