import { afterEach, describe, expect, it, vi } from 'vitest';
import { mapImages } from './mapImages.ts';

describe('map images for the canvas', () => {
  afterEach(() => vi.restoreAllMocks());

  it('fetches each ref once, draws images from blob: URLs, and releases them on dispose', async () => {
    let n = 0;
    const create = vi.spyOn(URL, 'createObjectURL').mockImplementation(() => `blob:test/${++n}`);
    const revoke = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const fetched: string[] = [];
    const images = mapImages(async (ref) => {
      fetched.push(ref);
      if (ref === 'sha256:gone') throw new Error('404');
      return new Blob([new Uint8Array([1])], {
        type: ref === 'sha256:pdf' ? 'application/pdf' : 'image/png',
      });
    });
    expect(await images.resolve('sha256:a')).toBe('blob:test/1');
    expect(await images.resolve('sha256:a')).toBe('blob:test/1');
    // Not an image, or not there: the canvas draws its placeholder.
    expect(await images.resolve('sha256:pdf')).toBeUndefined();
    expect(await images.resolve('sha256:gone')).toBeUndefined();
    expect(fetched).toEqual(['sha256:a', 'sha256:pdf', 'sha256:gone']);
    expect(create).toHaveBeenCalledTimes(1);
    images.dispose();
    expect(revoke).toHaveBeenCalledWith('blob:test/1');
  });
});
