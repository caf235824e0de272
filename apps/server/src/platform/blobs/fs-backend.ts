/**
 * The local-directory backend (embedded default): temp file in the target folder, fsync, rename, fsync the
 * folder; so a crash leaves either the old object or the new one. Paths are checked to stay under the root.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { access, constants, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobBackend } from './backend.ts';
import { BlobTooLargeError } from './stream-format.ts';

const TEMP_PREFIX = '.tmp-';

export class FsBlobBackend implements BlobBackend {
  readonly kind = 'fs' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private file(path: string): string {
    const full = resolve(this.root, path);
    if (!full.startsWith(this.root + sep)) throw new Error(`blob path escapes the store: ${path}`);
    return full;
  }

  async put(
    path: string,
    body: Readable,
    options: { maxBytes: number; precondition?: () => Promise<boolean> },
  ) {
    const target = this.file(path);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temp = join(dirname(target), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let size = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _e, done) {
        size += chunk.length;
        done(size > options.maxBytes ? new BlobTooLargeError(options.maxBytes) : null, chunk);
      },
    });
    let out: WriteStream | undefined;
    try {
      out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
      await pipeline(body, limit, out);
      const fh = await open(temp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (options.precondition && !(await options.precondition())) {
        await unlink(temp);
        return undefined;
      }
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const dir = await open(dirname(target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return { size };
  }

  async get(path: string): Promise<Readable | undefined> {
    const file = this.file(path);
    try {
      const fh = await open(file, 'r');
      return fh.createReadStream();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async head(path: string, bytes: number): Promise<Buffer | undefined> {
    try {
      const fh = await open(this.file(path), 'r');
      try {
        const buf = Buffer.alloc(bytes);
        const { bytesRead } = await fh.read(buf, 0, bytes, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(path: string): Promise<boolean> {
    try {
      await unlink(this.file(path));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = this.file(prefix.replace(/\/$/, ''));
    let entries;
    try {
      entries = await readdir(base, { recursive: true, withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith(TEMP_PREFIX)) continue;
      const full = join(e.parentPath, e.name);
      yield full
        .slice(this.root.length + 1)
        .split(sep)
        .join('/');
    }
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await access(this.root, constants.W_OK);
  }

  async close(): Promise<void> {}
}
