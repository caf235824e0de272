/**
 * Test harness for blob backends: a local S3-protocol server (s3rver, from npm) on a free loopback port with
 * its data in a temp dir, started and stopped by the suite that needs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { S3BlobBackend } from './s3-backend.ts';

export const s3Enabled = () => process.env.CANOPY_TEST_S3 === '1';

export interface LocalS3 {
  endpoint: string;
  /** A backend on a fresh bucket. */
  backend(bucket: string): Promise<S3BlobBackend>;
  stop(): Promise<void>;
}

export async function startLocalS3(): Promise<LocalS3> {
  const { default: S3rver } = await import('s3rver');
  const dir = mkdtempSync(join(tmpdir(), 'canopy-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    async backend(bucket) {
      const b = new S3BlobBackend({
        bucket,
        endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        partBytes: 5 * 1024 * 1024,
      });
      await b.client.send(new CreateBucketCommand({ Bucket: bucket }));
      return b;
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
