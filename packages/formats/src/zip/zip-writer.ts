import { zipSync, type Zippable } from 'fflate';

/** A fixed timestamp keeps exports byte-for-byte reproducible. */
const EPOCH = new Date(Date.UTC(2020, 0, 1));

export function writeZip(
  files: ReadonlyArray<{ name: string; data: Uint8Array; store?: boolean }>,
): Uint8Array {
  const zippable: Zippable = {};
  for (const file of files) {
    zippable[file.name] = [file.data, { level: file.store ? 0 : 6, mtime: EPOCH }];
  }
  return zipSync(zippable);
}
