/** The maps part of the API client (API.md, "Maps and co-editing"; apps/server/src/modules/maps/routes.ts). */
import type { MapDocument } from '@canopy/model';
import type { Method } from './client.ts';
import { ApiError, networkProblem, problemFrom } from './problem.ts';
import type { ExportFormat, ImportResult, MapShare, MapSummary, ShareRole } from './types.ts';
import { xhrUpload, type UploadRequest, type UploadTransport } from './upload.ts';

interface Transport {
  readonly baseUrl: string;
  request<T>(method: Method, path: string, body?: unknown): Promise<T>;
  send(method: Method, path: string, body?: unknown): Promise<Response>;
  headersFor(method: Method): Record<string, string>;
  readonly upload?: UploadTransport | undefined;
}

const itemsOf = <T>(body: T[] | { items: T[] }): T[] => (Array.isArray(body) ? body : body.items);
const at = (id: string) => `/maps/${encodeURIComponent(id)}`;

/** Browsers often give .mmap, .xmind, .mm and .md files no type; the server then detects the format itself. */
export function importContentType(file: { name: string; type: string }): string {
  return file.type || 'application/octet-stream';
}

export function mapsApi(t: Transport) {
  const upload = t.upload ?? xhrUpload;
  /** A POST through the upload transport (progress, abort), answered with JSON or a problem (ApiError). */
  const uploadJson = async <T>(request: UploadRequest): Promise<T> => {
    let response;
    try {
      response = await upload(request);
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(networkProblem(error));
    }
    const asResponse = new Response(response.body || null, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    if (!asResponse.ok) throw new ApiError(await problemFrom(asResponse));
    return (await asResponse.json()) as T;
  };
  return {
    list: () => t.request<MapSummary[] | { items: MapSummary[] }>('GET', '/maps').then(itemsOf),
    create: (title: string) => t.request<MapSummary>('POST', '/maps', { title }),
    get: (id: string) => t.request<MapSummary>('GET', at(id)),
    document: (id: string) => t.request<MapDocument>('GET', `${at(id)}/document`),
    rename: (id: string, title: string) => t.request<MapSummary>('PATCH', at(id), { title }),
    remove: (id: string) => t.request<void>('DELETE', at(id)),
    shares: (id: string) =>
      t.request<MapShare[] | { items: MapShare[] }>('GET', `${at(id)}/shares`).then(itemsOf),
    share: (id: string, email: string, role: ShareRole) =>
      t.request<{ accountId: string; role: ShareRole }>('POST', `${at(id)}/shares`, { email, role }),
    unshare: (id: string, accountId: string) =>
      t.request<void>('DELETE', `${at(id)}/shares/${encodeURIComponent(accountId)}`),

    /** `GET /maps/{id}/export?format=`: the file and the name the server gave it (Content-Disposition). */
    async export(id: string, format: ExportFormat): Promise<{ blob: Blob; filename: string }> {
      const response = await t.send('GET', `${at(id)}/export?format=${encodeURIComponent(format)}`);
      const filename = filenameFrom(response.headers.get('content-disposition')) ?? `map.${format}`;
      return { blob: await response.blob(), filename };
    },

    /**
     * `GET /maps/{id}/blobs/{ref}`: a topic image or attachment, fetched with the chosen org's header (an
     * `<img src>` could not send it), as a Blob typed by the server's Content-Type.
     */
    async blob(id: string, ref: string): Promise<Blob> {
      const response = await t.send('GET', `${at(id)}/blobs/${encodeURIComponent(ref)}`);
      return response.blob();
    },

    /**
     * `POST /maps/{id}/blobs`: an image or attachment's bytes, with its type; the answer's `ref` is what a topic's
     * `image` (or an attachment) then names. Stored once per content.
     */
    async addBlob(id: string, file: Blob): Promise<AddedBlob> {
      const headers = { ...t.headersFor('POST'), 'content-type': file.type || 'application/octet-stream' };
      return uploadJson<AddedBlob>({ url: `${t.baseUrl}${at(id)}/blobs`, headers, body: file });
    },

    /**
     * `POST /maps/import` with the raw file and `?filename=` (the server detects the format from both).
     * Progress is the fraction of the upload sent; the server's parse time follows it.
     */
    async import(
      file: File,
      options: { onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
    ): Promise<ImportResult> {
      const headers = { ...t.headersFor('POST'), 'content-type': importContentType(file) };
      return uploadJson<ImportResult>({
        url: `${t.baseUrl}/maps/import?filename=${encodeURIComponent(file.name)}`,
        headers,
        body: file,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    },
  };
}

/** What `POST /maps/{id}/blobs` answers. */
export interface AddedBlob {
  readonly ref: string;
  readonly mimeType: string;
  readonly size: number;
}

/** The file name of a Content-Disposition header, preferring the UTF-8 `filename*` form. */
export function filenameFrom(header: string | null): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(header)?.[1];
  if (extended) {
    try {
      return decodeURIComponent(extended.trim());
    } catch {
      // fall through to the plain form
    }
  }
  return /filename="?([^";]+)"?/i.exec(header)?.[1];
}
