import { afterAll, describe, expect, it } from 'vitest';
import { PresenceStore, readOwnPresenceUpdate } from './presence.ts';

const stores: PresenceStore[] = [];
const store = () => {
  const s = new PresenceStore(60_000);
  stores.push(s);
  return s;
};

describe('PresenceStore (Loro ephemeral store)', () => {
  it("carries a key's value and its deletion from one store to another", () => {
    const a = store();
    const b = store();
    a.set('7', { name: 'Ada', selection: 'x' });
    expect(b.apply(a.encode('7')).ok).toBe(true);
    expect(b.states()).toEqual({ '7': { name: 'Ada', selection: 'x' } });
    a.delete('7');
    b.apply(a.encode('7'));
    expect(b.keys()).toEqual([]);
  });

  it('refuses bytes that are not a presence update', () => {
    expect(store().apply(new Uint8Array([5, 1, 2, 3]))).toMatchObject({
      ok: false,
      error: { code: 'malformed-update' },
    });
  });
});

describe('readOwnPresenceUpdate', () => {
  it('reads a value set, a deletion, and an update with no entry for the own key', () => {
    const member = store();
    member.set('3', { selection: 'x' });
    expect(readOwnPresenceUpdate(member.encode('3'), '3')).toEqual({
      ok: true,
      value: { kind: 'set', value: { selection: 'x' } },
    });
    member.delete('3');
    expect(readOwnPresenceUpdate(member.encode('3'), '3')).toEqual({ ok: true, value: { kind: 'delete' } });
    expect(readOwnPresenceUpdate(store().encodeAll(), '3')).toEqual({ ok: true, value: { kind: 'none' } });
  });

  it('refuses an update that sets or deletes any other key, even beside the own one', () => {
    const mallory = store();
    mallory.set('3', { selection: 'mine' });
    mallory.set('4', { selection: 'pretending to be 4' });
    expect(readOwnPresenceUpdate(mallory.encode('4'), '3')).toMatchObject({
      ok: false,
      error: { code: 'invalid-operation' },
    });
    expect(readOwnPresenceUpdate(mallory.encodeAll(), '3')).toMatchObject({ ok: false });
    mallory.delete('4');
    expect(readOwnPresenceUpdate(mallory.encode('4'), '3')).toMatchObject({
      ok: false,
      error: { code: 'invalid-operation' },
    });
    expect(readOwnPresenceUpdate(mallory.encodeAll(), '3')).toMatchObject({ ok: false });
  });

  it('refuses bytes that do not decode', () => {
    expect(readOwnPresenceUpdate(new Uint8Array([1, 1, 0x33, 9, 9]), '3')).toMatchObject({
      ok: false,
      error: { code: 'malformed-update' },
    });
  });
});

afterAll(() => {
  for (const s of stores) s.destroy();
});
