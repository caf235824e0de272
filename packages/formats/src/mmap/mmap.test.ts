import { spawnSync } from 'node:child_process';
import { Parser } from 'htmlparser2';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { exportMap, importMap } from '../index.ts';
import { countTopics, forEachTopic } from '../shared/document-builder.ts';
import { canonicalDocument } from '../test-support/canonical.ts';
import { fixturePath, readFixture, removeTempFile, writeTempFile } from '../test-support/fixtures.ts';
import { richDocument } from '../test-support/sample-documents.ts';
import { invariantViolations } from '../test-support/invariants.ts';
import { strToU8, zipSync } from 'fflate';
import { objectIdToGuid } from './object-ids.ts';

/** Counts what a Document.xml holds, with a different parser than the importer's (htmlparser2 in XML mode). */
function countDocumentXml(xml: string) {
  const counts = {
    topics: 0,
    texts: [] as string[],
    notes: 0,
    icons: 0,
    links: 0,
    relationships: 0,
    priorities: 0,
    labels: 0,
    images: 0,
    attachments: 0,
  };
  const stack: string[] = [];
  const inTopic = () => stack.includes('ap:OneTopic');
  const inRelationship = () => stack.includes('ap:Relationship');
  new Parser(
    {
      onopentag(name, attrs) {
        stack.push(name);
        if (!inTopic()) {
          if (name === 'ap:Relationship') counts.relationships++;
          return;
        }
        if (name === 'ap:Topic' && !inRelationship()) counts.topics++;
        if (name === 'ap:Text' && stack[stack.length - 2] === 'ap:Topic')
          counts.texts.push(attrs.PlainText ?? '');
        if (name === 'ap:NotesXhtmlData') counts.notes++;
        if (name === 'ap:Icon') counts.icons++;
        if (name === 'ap:Hyperlink' || name === 'ap:IndexedHyperlink') counts.links++;
        if (name === 'ap:Task' && attrs.TaskPriority) counts.priorities++;
        if (name === 'ap:TextLabel') counts.labels++;
        if (name === 'ap:ImageData') counts.images++;
        if (name === 'ap:AttachmentData') counts.attachments++;
      },
      onclosetag() {
        stack.pop();
      },
    },
    { xmlMode: true, decodeEntities: true },
  ).end(xml);
  return counts;
}

function countImported(result: ReturnType<typeof importMap>) {
  const counts = {
    topics: 0,
    texts: [] as string[],
    notes: 0,
    icons: 0,
    links: 0,
    relationships: result.document.relationships.length,
    priorities: 0,
    labels: 0,
    images: 0,
    attachments: 0,
  };
  forEachTopic(result.document, (t) => {
    counts.topics++;
    counts.texts.push(t.text);
    if (t.notesHtml) counts.notes++;
    counts.icons += t.icons?.length ?? 0;
    counts.links += t.links?.length ?? 0;
    if (t.task?.priority) counts.priorities++;
    counts.labels += t.tags?.length ?? 0;
    if (t.image) counts.images++;
    counts.attachments += t.attachments?.length ?? 0;
  });
  return counts;
}

function documentXml(bytes: Uint8Array): string {
  return new TextDecoder().decode(unzipSync(bytes)['Document.xml']);
}

function xmllint(): boolean {
  return spawnSync('xmllint', ['--version']).status === 0;
}

function validateAgainstXsd(bytes: Uint8Array): { ok: boolean; output: string } {
  const file = writeTempFile('Document.xml', documentXml(bytes));
  const run = spawnSync('xmllint', ['--noout', '--schema', fixturePath('mindmanager/xsd/all.xsd'), file], {
    encoding: 'utf8',
  });
  removeTempFile(file);
  return {
    ok: run.status === 0,
    output: run.stderr
      .split('\n')
      .filter((l) => !l.includes('Skipping import'))
      .join('\n'),
  };
}

describe('MindManager .mmap', () => {
  it('imports the MindManager 16 fixture with every topic, note, icon, link, label and relationship it holds', () => {
    const bytes = readFixture('mindmanager/test-2017-mm16.mmap');
    const expected = countDocumentXml(documentXml(bytes));
    expect(expected.topics).toBeGreaterThan(0);
    const result = importMap(bytes, { filename: 'test-2017-mm16.mmap' });
    const actual = countImported(result);
    expect({ ...actual, texts: [...actual.texts].sort() }).toEqual({
      ...expected,
      texts: [...expected.texts].sort(),
    });
    expect(result.document.title).toBe('test-2017-mm16');
    expect(invariantViolations(result.document)).toEqual([]);
  });

  it('reads the parts MindManager writes that the fixture lacks (notes, links, icons, task, labels, callouts, base64 data)', () => {
    const target = 'AAAAAAAAAAAAAAAAAAAAAA==';
    const xml = `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<ap:Map xmlns:ap="http://schemas.mindjet.com/MindManager/Application/2003" xmlns:cor="http://schemas.mindjet.com/MindManager/Core/2003" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" OId="AQEBAQEBAQEBAQEBAQEBAQ==">
<ap:OneTopic><ap:Topic OId="AgICAgICAgICAgICAgICAg==">
  <ap:SubTopics>
    <ap:Topic OId="${target}"><ap:Text PlainText="Target"><ap:Font/></ap:Text></ap:Topic>
    <ap:Topic OId="BAQEBAQEBAQEBAQEBAQEBA==">
      <ap:FloatingTopics><ap:Topic OId="BQUFBQUFBQUFBQUFBQUFBQ=="><ap:Text PlainText="Callout"><ap:Font/></ap:Text></ap:Topic></ap:FloatingTopics>
      <ap:Text PlainText="Linked"><ap:Font Bold="true"/><ap:FontRange From="0" To="3" Italic="true"/></ap:Text>
      <ap:NotesGroup><ap:NotesXhtmlData PreviewPlainText="Hello"><xhtml:html xmlns:xhtml="http://www.w3.org/1999/xhtml"><xhtml:p>Hello <xhtml:b>world</xhtml:b><xhtml:script>bad()</xhtml:script></xhtml:p></xhtml:html></ap:NotesXhtmlData></ap:NotesGroup>
      <ap:IconsGroup><ap:Icons><ap:Icon xsi:type="ap:StockIcon" IconType="urn:mindjet:FlagGreen"/><ap:Icon xsi:type="ap:CustomIcon" IconSignature="BgYGBgYGBgYGBgYGBgYGBg=="/></ap:Icons></ap:IconsGroup>
      <ap:Hyperlink Url="mj-map:///#oid=${objectIdToGuid(target)}"/>
      <ap:Task TaskPriority="urn:mindjet:Prio3" TaskPercentage="75" DurationHours="2" DurationMinutes="30" Resources="Ann; Bob"/>
      <ap:AttachmentGroup><ap:AttachmentData FileName="a.txt"><cor:Base64>aGVsbG8=</cor:Base64></ap:AttachmentData></ap:AttachmentGroup>
      <ap:TextLabels><ap:TextLabel TextLabelName="label"/></ap:TextLabels>
      <ap:HyperlinkGroup><ap:IndexedHyperlink Url="https://example.org" Index="0"/></ap:HyperlinkGroup>
    </ap:Topic>
  </ap:SubTopics>
  <ap:Text PlainText="Root"><ap:Font/></ap:Text>
</ap:Topic></ap:OneTopic>
<ap:Relationships><ap:Relationship OId="BwcHBwcHBwcHBwcHBwcHBw=="><ap:ConnectionGroup Index="0"><ap:Connection><cor:ObjectReference OIdRef="BAQEBAQEBAQEBAQEBAQEBA=="/></ap:Connection></ap:ConnectionGroup><ap:ConnectionGroup Index="1"><ap:Connection><ap:ObjectReference OIdRef="${target}"/></ap:Connection></ap:ConnectionGroup></ap:Relationship></ap:Relationships>
<ap:StyleGroup><ap:RootTopicDefaultsGroup><ap:DefaultText PlainText="not a topic"><ap:Font/></ap:DefaultText></ap:RootTopicDefaultsGroup></ap:StyleGroup>
</ap:Map>`;
    const bytes = zipSync({ 'Document.xml': strToU8(xml) });
    const expected = countDocumentXml(xml);
    const result = importMap(bytes, { filename: 'variety.mmap' });
    const actual = countImported(result);
    expect({ ...actual, texts: [...actual.texts].sort() }).toEqual({
      ...expected,
      texts: [...expected.texts].sort(),
    });
    expect(invariantViolations(result.document)).toEqual([]);
    const linked = result.document.root.children[1]!;
    expect(linked).toMatchObject({
      text: 'Linked',
      richText: [{ text: 'Lin', italic: true }, { text: 'ked' }],
      notesHtml: '<p>Hello <b>world</b></p>',
      icons: ['flag-green', 'mmap:custom:BgYGBgYGBgYGBgYGBgYGBg=='],
      links: [
        { kind: 'topic', topicId: target },
        { kind: 'url', url: 'https://example.org' },
      ],
      task: { priority: 3, progress: 75, durationMinutes: 150, resources: ['Ann', 'Bob'] },
      tags: ['label'],
      attachments: [{ name: 'a.txt', mimeType: 'text/plain', size: 5 }],
    });
    expect(result.document.floating.map((f) => f.text)).toEqual(['Callout']);
    expect(result.warnings).toEqual(
      expect.arrayContaining(['callout topics detached from their topic (kept as floating topics)']),
    );
    expect(result.document.relationships).toHaveLength(1);
  });

  it('keeps one of everything through export and import', () => {
    const { document, blobs } = richDocument();
    const exported = exportMap(document, 'mmap', { blobs });
    const back = importMap(exported.data, { filename: 'rich.mmap' });
    expect(canonicalDocument(back.document)).toEqual(canonicalDocument(document));
    expect([...back.blobs.keys()].sort()).toEqual([...blobs.keys()].sort());
    for (const [ref, blob] of back.blobs) expect(blob.data).toEqual(blobs.get(ref)!.data);
    expect(exported.warnings).toEqual(['map metadata (author, ...) dropped']);
  });

  it('counts in the exported Document.xml what the document holds', () => {
    const { document, blobs } = richDocument();
    const exported = exportMap(document, 'mmap', { blobs });
    const counts = countDocumentXml(documentXml(exported.data));
    expect(counts.topics).toBe(countTopics(document));
    expect(counts.relationships).toBe(document.relationships.length);
  });

  it('writes a Document.xml that validates against the MindManager XSDs, and a PNG preview', (context) => {
    const { document, blobs } = richDocument();
    const exported = exportMap(document, 'mmap', { blobs });
    const files = unzipSync(exported.data);
    expect([...files['Preview.png']!.subarray(0, 8)]).toEqual([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
    ]);
    if (!xmllint()) {
      console.warn('skipped: xmllint is not installed (apt-get install -y libxml2-utils)');
      context.skip();
    }
    const result = validateAgainstXsd(exported.data);
    expect(result.output).toContain('validates');
    expect(result.ok).toBe(true);
  });

  it('re-exports the fixture into a file that still validates', (context) => {
    if (!xmllint()) {
      console.warn('skipped: xmllint is not installed (apt-get install -y libxml2-utils)');
      context.skip();
    }
    const imported = importMap(readFixture('mindmanager/test-2017-mm16.mmap'), { filename: 'a.mmap' });
    const exported = exportMap(imported.document, 'mmap', { blobs: imported.blobs });
    expect(validateAgainstXsd(exported.data).ok).toBe(true);
  });
});
