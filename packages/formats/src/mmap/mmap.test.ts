import { spawnSync } from 'node:child_process';
import { Parser } from 'htmlparser2';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { exportMap, importMap } from '../index.ts';
import { countTopics, forEachTopic } from '../shared/document-builder.ts';
import { canonicalDocument } from '../test-support/canonical.ts';
import { fixturePath, readFixture, writeTempFile } from '../test-support/fixtures.ts';
import { richDocument } from '../test-support/sample-documents.ts';

/** Counts what a Document.xml holds, with a different parser than the importer's (htmlparser2 in XML mode). */
function countDocumentXml(xml: string) {
  const counts = { topics: 0, texts: [] as string[], notes: 0, icons: 0, links: 0, relationships: 0, priorities: 0, labels: 0, images: 0, attachments: 0 };
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
        if (name === 'ap:Text' && stack[stack.length - 2] === 'ap:Topic') counts.texts.push(attrs.PlainText ?? '');
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
  const counts = { topics: 0, texts: [] as string[], notes: 0, icons: 0, links: 0, relationships: result.document.relationships.length, priorities: 0, labels: 0, images: 0, attachments: 0 };
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
  const run = spawnSync('xmllint', ['--noout', '--schema', fixturePath('mindmanager/xsd/all.xsd'), file], { encoding: 'utf8' });
  return { ok: run.status === 0, output: run.stderr.split('\n').filter((l) => !l.includes('Skipping import')).join('\n') };
}

describe('MindManager .mmap', () => {
  it('imports the MindManager 16 fixture with every topic, note, icon, link, label and relationship it holds', () => {
    const bytes = readFixture('mindmanager/test-2017-mm16.mmap');
    const expected = countDocumentXml(documentXml(bytes));
    expect(expected.topics).toBeGreaterThan(0);
    const result = importMap(bytes, { filename: 'test-2017-mm16.mmap' });
    const actual = countImported(result);
    expect({ ...actual, texts: [...actual.texts].sort() }).toEqual({ ...expected, texts: [...expected.texts].sort() });
    expect(result.document.title).toBe('test-2017-mm16');
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
    expect([...files['Preview.png']!.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
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
