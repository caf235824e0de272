import { sha256, toHex } from './sha256.ts';

export interface BlobData {
  data: Uint8Array;
  mimeType: string;
}

/** Blobs found in an imported file, keyed by their content-addressed reference (`sha256:<hex>`). */
export class BlobCollector {
  readonly blobs = new Map<string, BlobData>();

  add(data: Uint8Array, mimeType: string): { ref: string; mimeType: string; size: number } {
    const ref = `sha256:${toHex(sha256(data))}`;
    if (!this.blobs.has(ref)) this.blobs.set(ref, { data, mimeType });
    return { ref, mimeType, size: data.length };
  }
}

export type BlobResolver = (ref: string) => BlobData | undefined;

export function blobResolver(options: {
  blobs?: ReadonlyMap<string, BlobData>;
  resolveBlob?: BlobResolver;
}): BlobResolver {
  return (ref) => options.resolveBlob?.(ref) ?? options.blobs?.get(ref);
}
