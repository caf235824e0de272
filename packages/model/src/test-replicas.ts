/**
 * Test helpers: replicas of one map with fixed peer ids, full-mesh delivery, hostile peers. Used only by tests (also
 * the server's, as `@canopy/model/testing`: only the model touches Loro).
 */
import { LoroDoc } from 'loro-crdt';
import { MindMap } from './mind-map.ts';

export function replicasOf(origin: MindMap, count: number): MindMap[] {
  const snapshot = origin.exportSnapshot();
  return Array.from({ length: count }, (_, i) => {
    const loaded = MindMap.fromSnapshot(snapshot, { peerId: BigInt(i + 1) });
    if (!loaded.ok) throw loaded.error;
    return loaded.value;
  });
}

/** Delivers every replica's history to every other replica; fails the test on a refused update. */
export function syncAll(replicas: readonly MindMap[]): void {
  for (const from of replicas) {
    const update = from.exportUpdatesSince();
    if (!update.ok) throw update.error;
    for (const to of replicas) {
      if (to === from) continue;
      const result = to.importUpdates(update.value);
      if (!result.ok) throw result.error;
    }
  }
}

/** A peer that speaks Loro but not the layout: it edits a raw copy of the map. */
export function hostileUpdate(map: MindMap, edit: (doc: LoroDoc) => void): Uint8Array {
  const doc = new LoroDoc();
  doc.import(map.exportSnapshot());
  const from = doc.oplogVersion();
  edit(doc);
  doc.commit();
  return doc.export({ mode: 'update', from });
}

/** A schema-breaking update: a field topics do not have, set on the central topic. */
export const evilField = (attacker: MindMap) =>
  hostileUpdate(attacker, (doc) => doc.getTree('topics').roots()[0]!.data.set('evil', 1));
