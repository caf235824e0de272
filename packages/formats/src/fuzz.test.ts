/**
 * Random and mutated files: the importers may refuse them, but only with a FormatError, and whatever they accept
 * is a valid MapDocument that every exporter can write. Inputs are small, so nothing can take long.
 */
import fc from 'fast-check';
import { strToU8, unzipSync, zipSync, type Unzipped } from 'fflate';
import { MapDocumentSchema } from '@canopy/model';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { exportMap, FormatError, FORMATS, importMap } from './index.ts';
import { readFixture } from './test-support/fixtures.ts';
import { invariantViolations } from './test-support/invariants.ts';
import { richDocument } from './test-support/sample-documents.ts';

const TOKENS = [
  '"id": "root"',
  '"topicId": "a"',
  'OId="kcYvdFhnwkqtBTviJoBxgA=="',
  '"from": 5',
  '<',
  '>',
  '&',
  '"',
  "'",
  '</',
  '/>',
  ']]>',
  '<!DOCTYPE x>',
  '<!ENTITY a "b">',
  '&a;',
  '&#0;',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '\\',
  '\u0000',
  '\ufffe',
  '𝄞',
  'ap:Topic',
  'xmlns=""',
  '-1',
  '1e999',
  'null',
  '"children"',
  '\n#',
  '\n- ',
];

type Edit = { at: number; remove: number; insert: string };
const edits = fc.array(
  fc.record({
    at: fc.nat(),
    remove: fc.nat({ max: 40 }),
    insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 })),
  }),
  { minLength: 1, maxLength: 6 },
);

function applyEdits(text: string, list: Edit[]): string {
  let out = text;
  for (const e of list) {
    const at = out.length ? e.at % out.length : 0;
    out = out.slice(0, at) + e.insert + out.slice(at + e.remove);
  }
  return out;
}

function attempt(bytes: Uint8Array, filename: string): void {
  let result: ReturnType<typeof importMap>;
  try {
    result = importMap(bytes, { filename, limits: { maxTopics: 5000, maxDepth: 64 } });
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    expect(error.code).toMatch(/^[a-z_]+$/);
    // A TypeError or RangeError underneath would be a bug in an importer, reported as a bad file.
    expect(error.cause).not.toBeInstanceOf(TypeError);
    if (error.code !== 'too_deep') expect(error.cause).not.toBeInstanceOf(RangeError);
    return;
  }
  expect(Value.Check(MapDocumentSchema, result.document)).toBe(true);
  expect(invariantViolations(result.document)).toEqual([]);
  for (const format of FORMATS) exportMap(result.document, format, { blobs: result.blobs });
}

const { document, blobs } = richDocument();
const FILES: Array<[string, Uint8Array]> = [
  ['fixture.mmap', readFixture('mindmanager/test-2017-mm16.mmap')],
  ['fixture.xmind', readFixture('xmind/example0.xmind')],
  ...(['mmap', 'xmind', 'mm', 'opml', 'md', 'json'] as const).map((f): [string, Uint8Array] => [
    `rich.${f}`,
    exportMap(document, f, { blobs }).data,
  ]),
];
const INNER: Record<string, string> = { mmap: 'Document.xml', xmind: 'content.json' };

describe('fuzzing the importers', () => {
  it('random bytes under every file name', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom('a.mmap', 'a.xmind', 'a.mm', 'a.opml', 'a.md', 'a.json', 'a.bin'),
        (bytes, name) => attempt(bytes, name),
      ),
      { numRuns: 300 },
    );
  });

  it('mutated bytes of real and exported files', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FILES),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat()),
        ([name, original], flips, cut) => {
          const bytes = original.slice(0, cut === null ? undefined : Math.max(1, cut % original.length));
          for (const f of flips) bytes[f.at % bytes.length] = f.value;
          attempt(bytes, name);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mutated XML and JSON inside the archives, re-zipped', () => {
    const archives = FILES.filter(([name]) => /\.(mmap|xmind)$/.test(name));
    fc.assert(
      fc.property(fc.constantFrom(...archives), edits, ([name, original], list) => {
        const entries: Unzipped = unzipSync(original);
        const inner = INNER[name.split('.').pop()!]!;
        entries[inner] = strToU8(applyEdits(new TextDecoder().decode(entries[inner]), list));
        attempt(zipSync(entries), name);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated text formats', () => {
    const texts = FILES.filter(([name]) => /\.(mm|opml|md|json)$/.test(name));
    fc.assert(
      fc.property(fc.constantFrom(...texts), edits, ([name, original], list) => {
        attempt(strToU8(applyEdits(new TextDecoder().decode(original), list)), name);
      }),
      { numRuns: 400 },
    );
  });
});
