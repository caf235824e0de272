import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { indexedDbCopies, LocalCopyRefused, type LocalCopy } from './localCopies.ts';

const copy = (bytes: number, savedAt: number, pending = false, writer = 'tab1'): LocalCopy => ({
  snapshot: new Uint8Array(bytes).fill(7),
  pending,
  role: 'editor',
  savedAt,
  writer,
});

describe('indexedDbCopies', () => {
  it('keeps a copy per account and map, and reads it back', async () => {
    const copies = indexedDbCopies(new IDBFactory());
    await copies.write('ada', 'm1', copy(10, 1, true));
    expect(await copies.read('ada', 'm1')).toEqual(copy(10, 1, true));
    expect(await copies.read('bob', 'm1')).toBeUndefined();
    expect(await copies.read('ada', 'm2')).toBeUndefined();
  });

  it('marks a copy saved without rewriting it, removes one, and clears every copy (sign-out)', async () => {
    const factory = new IDBFactory();
    const copies = indexedDbCopies(factory);
    await copies.write('ada', 'm1', copy(10, 1, true));
    await copies.write('bob', 'm2', copy(10, 1, true));
    await copies.markSaved('ada', 'm1', 'another tab');
    expect(await copies.read('ada', 'm1')).toMatchObject({ pending: true });
    await copies.markSaved('ada', 'm1', 'tab1');
    expect(await copies.read('ada', 'm1')).toMatchObject({ pending: false, snapshot: copy(10, 1).snapshot });
    await copies.write('ada', 'gone', copy(10, 1, true));
    await copies.remove('ada', 'gone');
    expect(await copies.read('ada', 'gone')).toBeUndefined();
    // Another instance over the same database (another tab, or the sign-out button) sees the same copies.
    await indexedDbCopies(factory).clear();
    expect(await copies.read('ada', 'm1')).toBeUndefined();
    expect(await copies.read('bob', 'm2')).toBeUndefined();
  });

  it("never replaces another tab's copy with unsent edits by one without any", async () => {
    const copies = indexedDbCopies(new IDBFactory());
    await copies.write('ada', 'm1', copy(10, 1, true, 'tab1'));
    await copies.write('ada', 'm1', copy(20, 2, false, 'tab2'));
    expect(await copies.read('ada', 'm1')).toMatchObject({ writer: 'tab1', pending: true, savedAt: 1 });
    // With unsent edits of its own, the last writer wins; and a tab always replaces its own copy.
    await copies.write('ada', 'm1', copy(20, 3, true, 'tab2'));
    expect(await copies.read('ada', 'm1')).toMatchObject({ writer: 'tab2', savedAt: 3 });
    await copies.write('ada', 'm1', copy(20, 4, false, 'tab2'));
    expect(await copies.read('ada', 'm1')).toMatchObject({ writer: 'tab2', pending: false, savedAt: 4 });
  });

  it('refuses a copy above the per-map bound', async () => {
    const copies = indexedDbCopies(new IDBFactory(), { maxCopyBytes: 100, maxTotalBytes: 1_000 });
    await expect(copies.write('ada', 'm1', copy(101, 1))).rejects.toThrow(LocalCopyRefused);
    await expect(copies.write('ada', 'm1', copy(101, 1))).rejects.toMatchObject({ reason: 'tooLarge' });
    expect(await copies.read('ada', 'm1')).toBeUndefined();
  });

  it('drops the oldest saved copies past the total bound, never one with unsent edits', async () => {
    const copies = indexedDbCopies(new IDBFactory(), { maxCopyBytes: 100, maxTotalBytes: 250 });
    await copies.write('ada', 'old-unsent', copy(100, 1, true));
    await copies.write('ada', 'old', copy(100, 2));
    await copies.write('ada', 'new', copy(100, 3));
    expect(await copies.read('ada', 'old-unsent')).toBeDefined();
    expect(await copies.read('ada', 'old')).toBeUndefined();
    expect(await copies.read('ada', 'new')).toBeDefined();

    // When only unsent copies are left to drop, the new copy is refused and nothing is removed.
    await copies.write('ada', 'new', copy(100, 4, true));
    await expect(copies.write('ada', 'third', copy(100, 5))).rejects.toMatchObject({ reason: 'tooLarge' });
    expect(await copies.read('ada', 'old-unsent')).toBeDefined();
    expect(await copies.read('ada', 'new')).toBeDefined();
  });

  it('rejects with LocalCopyRefused where the browser has no IndexedDB (the page shows its message)', async () => {
    const copies = indexedDbCopies(undefined);
    const refused = copies.write('ada', 'm1', copy(1, 1));
    await expect(refused).rejects.toMatchObject({ reason: 'refused' });
    await expect(refused).rejects.toThrow(/kept only while this tab is open/);
  });
});
