import type { TopicImage } from '@canopy/model';
import { useId, useState } from 'react';

/** What storing an image on the server answers (`POST /maps/{id}/blobs`). */
export interface StoredImage {
  readonly ref: string;
  readonly mimeType: string;
  readonly size: number;
}

/** Stores an image's bytes where the map can name them; absent where the map has no server (a local file). */
export type ImageUploader = (file: File) => Promise<StoredImage>;

/** The raster types the server serves inline and the canvas draws. */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
/** The server's default limit for one image or attachment. */
export const MAX_IMAGE_BYTES = 25 * 1024 * 1024;

interface Props {
  readonly image: TopicImage | undefined;
  readonly readOnly: boolean;
  readonly upload: ImageUploader | undefined;
  readonly onChange: (image: TopicImage | undefined) => void;
}

/** The topic's image: what it is, a file picker that stores a new one and puts it on the topic, and removal. */
export function ImageSection({ image, readOnly, upload, onChange }: Props) {
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();

  const choose = async (file: File | undefined) => {
    if (!file || !upload) return;
    setProblem(undefined);
    if (!(IMAGE_TYPES as readonly string[]).includes(file.type)) {
      setProblem('Choose a PNG, JPEG, GIF or WebP image.');
      return;
    }
    if (file.size > MAX_IMAGE_BYTES) {
      setProblem(
        `That image is ${megabytes(file.size)}; at most ${megabytes(MAX_IMAGE_BYTES)} can be added.`,
      );
      return;
    }
    setBusy(true);
    try {
      const stored = await upload(file);
      const size = await pixelSize(file);
      onChange({ ref: stored.ref, mimeType: stored.mimeType, size: stored.size, ...size });
    } catch (error) {
      setProblem(`The image could not be added: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="image-section">
      {image ? (
        <p>
          {describe(image)}{' '}
          <button type="button" disabled={readOnly || busy} onClick={() => onChange(undefined)}>
            Remove image
          </button>
        </p>
      ) : (
        <p className="panel-empty">No image.</p>
      )}
      {upload ? (
        <p>
          <label htmlFor={id}>{image ? 'Replace the image' : 'Add an image'}</label>{' '}
          <input
            id={id}
            type="file"
            accept={IMAGE_TYPES.join(',')}
            disabled={readOnly || busy}
            onChange={(e) => {
              const input = e.currentTarget;
              void choose(input.files?.[0]).finally(() => (input.value = ''));
            }}
          />
        </p>
      ) : (
        <p className="panel-empty">Images can be added to maps stored on the server.</p>
      )}
      {busy && <p role="status">Adding the image…</p>}
      {problem && (
        <p className="panel-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

function describe(image: TopicImage): string {
  const kind = image.mimeType?.replace(/^image\//, '').toUpperCase() ?? 'Image';
  const dims = image.width && image.height ? `, ${image.width} × ${image.height}` : '';
  return `${kind} image${dims}${image.size !== undefined ? `, ${megabytes(image.size)}` : ''}.`;
}

function megabytes(bytes: number): string {
  return bytes < 1024 * 1024
    ? `${Math.max(1, Math.round(bytes / 1024))} KB`
    : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The image's pixel size, which the canvas scales it from; unknown when the browser cannot decode it here. */
async function pixelSize(file: File): Promise<{ width?: number; height?: number }> {
  if (typeof createImageBitmap !== 'function') return {};
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return {};
  }
}
