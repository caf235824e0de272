/**
 * Turns a blob reference into something drawable. The resolver gives a URL the page may load under its CSP
 * (a same-origin path, or a `blob:` URL made from bytes fetched by the app); undefined means "no image".
 */
export type ImageUrlResolver = (ref: string) => string | undefined | Promise<string | undefined>;

type Entry = { state: 'loading' } | { state: 'ready'; image: HTMLImageElement } | { state: 'failed' };

/** Loads each referenced image once and tells the renderer when one becomes drawable. */
export class ImageCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly resolve: ImageUrlResolver,
    private readonly onLoad: () => void,
  ) {}

  /** The decoded image, or undefined while it loads (the load is started on first request) or if it failed. */
  get(ref: string): HTMLImageElement | undefined {
    const entry = this.entries.get(ref);
    if (entry) return entry.state === 'ready' ? entry.image : undefined;
    this.entries.set(ref, { state: 'loading' });
    void this.load(ref);
    return undefined;
  }

  private async load(ref: string): Promise<void> {
    try {
      const url = await this.resolve(ref);
      if (!url) throw new Error('unresolved');
      const image = new Image();
      image.decoding = 'async';
      image.src = url;
      await image.decode();
      this.entries.set(ref, { state: 'ready', image });
      this.onLoad();
    } catch {
      this.entries.set(ref, { state: 'failed' });
    }
  }
}
