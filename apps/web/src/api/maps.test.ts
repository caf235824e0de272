import { describe, expect, it } from 'vitest';
import { createApiClient } from './client.ts';
import { filenameFrom, importContentType } from './maps.ts';
import type { UploadRequest } from './upload.ts';

/** An API client in org `team` whose fetch records each request and answers with `answer()`. */
function clientAnswering(answer: () => Response) {
  const seen: { url: string; headers: Record<string, string> }[] = [];
  const api = createApiClient({
    baseUrl: '/api/v1',
    csrf: { get: () => null, set: () => undefined },
    org: { get: () => 'team', set: () => undefined },
    fetch: async (input, init) => {
      seen.push({ url: String(input), headers: init?.headers as Record<string, string> });
      return answer();
    },
  });
  return { api, seen };
}

describe('maps client', () => {
  it('reads the file name of an export, preferring the UTF-8 form', () => {
    expect(filenameFrom(`attachment; filename="Plan.md"; filename*=UTF-8''Pl%C3%A4ne.md`)).toBe('Pläne.md');
    expect(filenameFrom('attachment; filename="Plan.md"')).toBe('Plan.md');
    expect(filenameFrom(null)).toBeUndefined();
  });

  it('sends an untyped file as bytes so the server detects the format', () => {
    expect(importContentType({ name: 'a.mmap', type: '' })).toBe('application/octet-stream');
    expect(importContentType({ name: 'a.opml', type: 'text/x-opml' })).toBe('text/x-opml');
  });

  it('downloads an export in the chosen org, with the name the server gave it', async () => {
    const { api, seen } = clientAnswering(
      () =>
        new Response('# Plan\n', {
          headers: {
            'content-type': 'text/markdown',
            'content-disposition': `attachment; filename="Plan.md"; filename*=UTF-8''Plan.md`,
          },
        }),
    );
    const { blob, filename } = await api.maps.export('m 1', 'md');
    expect(filename).toBe('Plan.md');
    expect(await blob.text()).toBe('# Plan\n');
    expect(seen[0]!.url).toBe('/api/v1/maps/m%201/export?format=md');
    expect(seen[0]!.headers['x-canopy-org']).toBe('team');
  });

  it('fetches a topic image by its ref in the chosen org, typed by the server', async () => {
    const { api, seen } = clientAnswering(
      () =>
        new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { headers: { 'content-type': 'image/png' } }),
    );
    const blob = await api.maps.blob('m1', 'sha256:ab');
    expect(blob.type).toBe('image/png');
    expect(blob.size).toBe(4);
    expect(seen[0]!.url).toBe('/api/v1/maps/m1/blobs/sha256%3Aab');
    expect(seen[0]!.headers['x-canopy-org']).toBe('team');
  });

  it('stores an image in the chosen org with its type, and reads the ref; a refusal is an ApiError', async () => {
    const sent: UploadRequest[] = [];
    let answer = { status: 201, body: JSON.stringify({ ref: 'sha256:cd', mimeType: 'image/png', size: 4 }) };
    const api = createApiClient({
      baseUrl: '/api/v1',
      csrf: { get: () => null, set: () => undefined },
      org: { get: () => 'team', set: () => undefined },
      fetch: async () => new Response(null, { status: 500 }),
      upload: async (request) => {
        sent.push(request);
        return { ...answer, statusText: '', headers: new Headers({ 'content-type': 'application/json' }) };
      },
    });
    const file = new File([new Uint8Array([1, 2, 3, 4])], 'a.png', { type: 'image/png' });
    expect(await api.maps.addBlob('m 1', file)).toEqual({ ref: 'sha256:cd', mimeType: 'image/png', size: 4 });
    expect(sent[0]!.url).toBe('/api/v1/maps/m%201/blobs');
    expect(sent[0]!.headers['content-type']).toBe('image/png');
    expect(sent[0]!.headers['x-canopy-org']).toBe('team');
    expect(sent[0]!.body).toBe(file);
    answer = {
      status: 413,
      body: JSON.stringify({ status: 413, code: 'too_large', detail: 'The request body is too large.' }),
    };
    await expect(api.maps.addBlob('m1', file)).rejects.toMatchObject({ problem: { code: 'too_large' } });
  });
});
