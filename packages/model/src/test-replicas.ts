/** Test helpers: replicas of one map with fixed peer ids, and full-mesh delivery. Used only by tests. */
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
