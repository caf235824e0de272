import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { importMap, type FormatErrorCode } from './index.ts';
import { generatedDocument } from './test-support/sample-documents.ts';
import { exportMap } from './index.ts';

const MAP_OPEN = '<ap:Map xmlns:ap="http://schemas.mindjet.com/MindManager/Application/2003">';

function mmapWith(documentXml: string): Uint8Array {
  return zipSync({ 'Document.xml': strToU8(documentXml) });
}

function codeOf(run: () => unknown): FormatErrorCode | 'no error' | 'not a FormatError' {
  try {
    run();
    return 'no error';
  } catch (error) {
    return (error as { name?: string }).name === 'FormatError'
      ? (error as { code: FormatErrorCode }).code
      : 'not a FormatError';
  }
}

/** A ZIP whose single entry lies about its inflated size (a zip bomb does). */
function zipWithDeclaredSize(name: string, content: Uint8Array, declaredSize: number): Uint8Array {
  const zip = zipSync({ [name]: content });
  const dv = new DataView(zip.buffer);
  const cd = dv.getUint32(zip.length - 22 + 16, true);
  dv.setUint32(cd + 24, declaredSize, true);
  dv.setUint32(22, declaredSize, true);
  return zip;
}

describe('hostile input', () => {
  it('refuses a file larger than the input limit before reading it', () => {
    expect(
      codeOf(() => importMap(new Uint8Array(2048), { filename: 'x.mmap', limits: { maxInputBytes: 1024 } })),
    ).toBe('too_large');
  });

  it('refuses XML with a DOCTYPE (external entities, billion laughs)', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>${MAP_OPEN}<ap:OneTopic><ap:Topic><ap:Text PlainText="&x;"/></ap:Topic></ap:OneTopic></ap:Map>`;
    expect(codeOf(() => importMap(mmapWith(xxe), { filename: 'x.mmap' }))).toBe('xml_doctype_forbidden');
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><opml version="2.0"><body><outline text="&lol2;"/></body></opml>`;
    expect(codeOf(() => importMap(strToU8(laughs), { filename: 'x.opml' }))).toBe('xml_doctype_forbidden');
  });

  it('refuses entries whose declared inflated size exceeds the limit, before inflating', () => {
    const bomb = zipWithDeclaredSize('Document.xml', strToU8('<x/>'), 0xfffffff0);
    expect(codeOf(() => importMap(bomb, { filename: 'x.mmap' }))).toBe('zip_bomb');
  });

  it('stops inflating an entry that grows past its declared size', () => {
    const huge = new Uint8Array(4 * 1024 * 1024).fill(0x20);
    const lying = zipWithDeclaredSize('Document.xml', huge, 1000);
    expect(codeOf(() => importMap(lying, { filename: 'x.mmap' }))).toBe('zip_bomb');
  });

  it('bounds the total inflated size across entries', () => {
    const entries: Record<string, Uint8Array> = {
      'Document.xml': strToU8(`${MAP_OPEN}<ap:OneTopic><ap:Topic/></ap:OneTopic></ap:Map>`),
    };
    const zip = zipSync(entries);
    expect(codeOf(() => importMap(zip, { filename: 'x.mmap', limits: { maxTotalInflatedBytes: 10 } }))).toBe(
      'zip_bomb',
    );
  });

  it('refuses archives with too many entries and unsafe entry names', () => {
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 20; i++) many[`bin/${i}`] = new Uint8Array(1);
    expect(
      codeOf(() =>
        importMap(zipSync({ 'Document.xml': strToU8('<x/>'), ...many }), {
          filename: 'x.mmap',
          limits: { maxZipEntries: 10 },
        }),
      ),
    ).toBe('too_many_entries');
    expect(
      codeOf(() =>
        importMap(zipSync({ 'Document.xml': strToU8('<x/>'), '../../evil': new Uint8Array(1) }), {
          filename: 'x.mmap',
        }),
      ),
    ).toBe('zip_path_traversal');
  });

  it('refuses maps deeper or larger than the limits', () => {
    let nested = '';
    for (let i = 0; i < 40; i++) nested = `<ap:SubTopics><ap:Topic>${nested}</ap:Topic></ap:SubTopics>`;
    const deep = mmapWith(`${MAP_OPEN}<ap:OneTopic><ap:Topic>${nested}</ap:Topic></ap:OneTopic></ap:Map>`);
    expect(codeOf(() => importMap(deep, { filename: 'x.mmap', limits: { maxDepth: 20 } }))).toBe('too_deep');
    const wide = exportMap(generatedDocument(500), 'mmap').data;
    expect(codeOf(() => importMap(wide, { filename: 'x.mmap', limits: { maxTopics: 100 } }))).toBe(
      'too_many_topics',
    );
    expect(codeOf(() => importMap(wide, { filename: 'x.mmap' }))).toBe('no error');
  });

  it('refuses deeply nested JSON before parsing it', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(codeOf(() => importMap(strToU8(deep), { filename: 'x.json' }))).toBe('too_deep');
  });

  it('reports unknown and malformed files with codes', () => {
    expect(codeOf(() => importMap(new Uint8Array([0, 1, 2, 3]), {}))).toBe('unsupported_format');
    expect(codeOf(() => importMap(mmapWith('<ap:Map'), { filename: 'x.mmap' }))).toBe('invalid_file');
    expect(codeOf(() => importMap(zipSync({ 'other.txt': new Uint8Array(1) }), { filename: 'x.mmap' }))).toBe(
      'invalid_file',
    );
  });
});
