import { describe, expect, it } from 'vitest';
import { detectFormat, exportMap } from './index.ts';
import { readFixture } from './test-support/fixtures.ts';
import { richDocument } from './test-support/sample-documents.ts';

describe('format detection', () => {
  it('recognises every format by content, whatever the file is called', () => {
    expect(detectFormat(readFixture('mindmanager/test-2017-mm16.mmap'), 'upload.bin')).toBe('mmap');
    expect(detectFormat(readFixture('xmind/example0.xmind'), 'upload.zip')).toBe('xmind');
    const { document } = richDocument();
    for (const format of ['mmap', 'xmind', 'mm', 'opml', 'md', 'json'] as const) {
      expect(detectFormat(exportMap(document, format).data, 'upload')).toBe(format);
    }
  });

  it('uses the name or MIME type only to break ties', () => {
    expect(detectFormat(new TextEncoder().encode('plain words'), 'notes.md')).toBe('md');
    expect(detectFormat(new TextEncoder().encode('plain words'), undefined, 'text/markdown')).toBe('md');
    expect(() => detectFormat(new TextEncoder().encode('<svg/>'), 'x.opml')).toThrow(
      expect.objectContaining({ code: 'unsupported_format' }),
    );
  });
});
