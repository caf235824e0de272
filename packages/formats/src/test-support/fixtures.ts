/**
 * Test-only access to the shared fixtures (../shared/fixtures beside the repository root). The package code is
 * pure; only tests read files, through this one module.
 */
// eslint-disable-next-line no-restricted-imports -- tests read fixture files; package code never does
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = new URL('../../../../../shared/fixtures/', import.meta.url);

export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(relative, FIXTURES));
}

export function readFixture(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(relative)));
}

/** Writes a file into a fresh temporary folder (for external tools such as xmllint) and returns its path. */
export function writeTempFile(name: string, content: string | Uint8Array): string {
  const file = join(mkdtempSync(join(tmpdir(), 'canopy-formats-')), name);
  writeFileSync(file, content);
  return file;
}

/** Removes a file `writeTempFile` wrote, and its folder. */
export function removeTempFile(file: string): void {
  rmSync(dirname(file), { recursive: true, force: true });
}
