import { afterEach, describe, expect, it } from 'vitest';
import { xhrUpload } from './upload.ts';

/** Just enough of XMLHttpRequest to drive xhrUpload: the test plays the browser's part with `respond`/`progress`. */
class FakeXhr {
  static last: FakeXhr | undefined;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  withCredentials = false;
  body: unknown;
  status = 0;
  statusText = '';
  responseText = '';
  responseHeaders = '';
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } =
    {
      onprogress: null,
    };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  aborted = false;
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  getAllResponseHeaders() {
    return this.responseHeaders;
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total });
  }
  respond(status: number, body: string, headers: string) {
    this.status = status;
    this.responseText = body;
    this.responseHeaders = headers;
    this.onload?.();
  }
}

const realXhr = (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;
afterEach(() => {
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = realXhr;
});

describe('upload with progress (XMLHttpRequest)', () => {
  it('posts the body with the headers and cookies, reports progress, and resolves with the answer', async () => {
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = FakeXhr;
    const fractions: number[] = [];
    const body = new Blob(['bytes']);
    const done = xhrUpload({
      url: '/api/v1/maps/import?filename=a.mmap',
      headers: { 'content-type': 'application/octet-stream', 'x-csrf-token': 'c' },
      body,
      onProgress: (f) => fractions.push(f),
    });
    const xhr = FakeXhr.last!;
    expect([xhr.method, xhr.url, xhr.withCredentials, xhr.body]).toEqual([
      'POST',
      '/api/v1/maps/import?filename=a.mmap',
      true,
      body,
    ]);
    expect(xhr.headers).toEqual({ 'content-type': 'application/octet-stream', 'x-csrf-token': 'c' });
    xhr.progress(25, 100);
    xhr.progress(100, 100);
    xhr.respond(415, '{"code":"unsupported_format"}', 'Content-Type: application/problem+json\r\nX-A: 1\r\n');
    const response = await done;
    expect(fractions).toEqual([0.25, 1, 1]);
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.body).toBe('{"code":"unsupported_format"}');
  });

  it('rejects when the server cannot be reached, and when the upload is cancelled', async () => {
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = FakeXhr;
    const unreachable = xhrUpload({ url: '/x', headers: {}, body: new Blob([]) });
    FakeXhr.last!.onerror?.();
    await expect(unreachable).rejects.toThrow('could not reach the server');

    const controller = new AbortController();
    const cancelled = xhrUpload({ url: '/x', headers: {}, body: new Blob([]), signal: controller.signal });
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    expect(FakeXhr.last!.aborted).toBe(true);
  });
});
