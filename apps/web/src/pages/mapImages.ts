/**
 * Topic images of a cloud map, for the canvas: each ref is fetched once through the API client (which sends the
 * chosen org's header, as an `<img src>` could not) and drawn from a `blob:` URL, which the page's CSP allows
 * (`img-src 'self' data: blob:`). Only images are resolved: attachments are never turned into URLs here.
 */
import type { ImageUrlResolver } from '../editor/render/imageCache.ts';

export interface MapImages {
  readonly resolve: ImageUrlResolver;
  /** Releases every URL made so far (when the page closes the map). */
  dispose(): void;
}

export function mapImages(fetchBlob: (ref: string) => Promise<Blob>): MapImages {
  const urls = new Map<string, Promise<string | undefined>>();
  const made: string[] = [];
  let disposed = false;
  return {
    resolve(ref) {
      let url = urls.get(ref);
      if (!url) {
        url = fetchBlob(ref).then(
          (blob) => {
            if (disposed || !blob.type.startsWith('image/')) return undefined;
            const objectUrl = URL.createObjectURL(blob);
            made.push(objectUrl);
            return objectUrl;
          },
          () => undefined,
        );
        urls.set(ref, url);
      }
      return url;
    },
    dispose() {
      disposed = true;
      for (const url of made.splice(0)) URL.revokeObjectURL(url);
      urls.clear();
    },
  };
}
