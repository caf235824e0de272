import { describe, expect, it } from 'vitest';
import { MapMirror } from './map-mirror.ts';
import { MindMap } from './mind-map.ts';
import { replicasOf } from './test-replicas.ts';

/** A stored map and an editor whose updates after it the tests hand to mirrors. */
function edited(keystrokes: number) {
  const origin = MindMap.create('mirrored');
  const snapshot = origin.exportSnapshot();
  const [editor] = replicasOf(origin, 1) as [MindMap];
  const updates: Uint8Array[] = [];
  editor.onLocalUpdate((update) => updates.push(update));
  const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: '' });
  for (let i = 0; i < keystrokes; i++) editor.editText(topic, i, 0, String.fromCharCode(97 + (i % 26)));
  return { snapshot, editor, updates };
}

const json = (state: { snapshot: Uint8Array } | undefined) => {
  if (!state) throw new Error('no snapshot');
  const map = MindMap.fromSnapshot(state.snapshot);
  if (!map.ok) throw map.error;
  return map.value.toJSON();
};

describe('MapMirror', () => {
  it('holds the same map whether updates come one at a time or as one batch', () => {
    const { snapshot, editor, updates } = edited(80);
    const single = MapMirror.open(snapshot, []);
    for (const update of updates) single.apply([update]);
    const batched = MapMirror.open(snapshot, []);
    batched.apply(updates.slice(0, 3));
    batched.apply(updates.slice(3));
    expect(json(single.export())).toEqual(editor.toJSON());
    expect(json(batched.export())).toEqual(editor.toJSON());
    expect(batched.versionVector()).toEqual(single.versionVector());
    single.free();
    batched.free();
  });

  it('exports nothing while a batch lacks an update it depends on, and all once it comes', () => {
    const { snapshot, editor, updates } = edited(60);
    const mirror = MapMirror.open(snapshot, []);
    const [first, ...rest] = updates as [Uint8Array, ...Uint8Array[]];
    mirror.apply(rest);
    expect(mirror.export()).toBeUndefined();
    mirror.apply([first]);
    expect(json(mirror.export())).toEqual(editor.toJSON());
    mirror.free();
  });
});
