/**
 * Uploads with progress. `fetch` cannot report upload progress in every browser (request streams need
 * HTTP/2 and duplex), so imports go through XMLHttpRequest, whose `upload.onprogress` works everywhere.
 */

export interface UploadRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Blob;
  /** Fraction sent, 0..1, as the browser reports it. */
  readonly onProgress?: (fraction: number) => void;
  readonly signal?: AbortSignal;
}

export interface UploadResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: string;
}

/** Sends one POST; rejects only when the server could not be reached (or the upload was aborted). */
export type UploadTransport = (request: UploadRequest) => Promise<UploadResponse>;

export const xhrUpload: UploadTransport = (request) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', request.url);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) request.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      request.onProgress?.(1);
      resolve({
        status: xhr.status,
        statusText: xhr.statusText,
        headers: parseHeaders(xhr.getAllResponseHeaders()),
        body: xhr.responseText,
      });
    };
    xhr.onerror = () => reject(new TypeError('The upload could not reach the server'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    request.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(request.body);
  });

function parseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.trim().split(/[\r\n]+/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}
