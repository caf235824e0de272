/**
 * The S3-compatible backend (scaled-out deployments): streaming puts as multipart uploads in 8 MiB parts
 * (a single PutObject when the object is smaller), aborted on any error or when the size limit is passed, so
 * nothing partial is ever visible. URL: `s3://[accessKey:secret@]bucket?endpoint=&region=&prefix=&forcePathStyle=`;
 * without credentials in the URL the SDK's default chain (environment, instance role...) applies.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { s3Driver } from '../drivers.ts';
import type { BlobBackend } from './backend.ts';
import { BlobTooLargeError } from './stream-format.ts';

export interface S3BackendOptions {
  bucket: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  partBytes?: number;
}

export function parseS3Url(url: string): S3BackendOptions {
  const u = new URL(url);
  if (u.protocol !== 's3:') throw new Error('not an s3:// URL');
  const p = u.searchParams;
  const options: S3BackendOptions = {
    bucket: u.hostname,
    prefix: p.get('prefix') ?? (u.pathname.replace(/^\/+/, '') || undefined),
    endpoint: p.get('endpoint') ?? undefined,
    region: p.get('region') ?? undefined,
    forcePathStyle: p.has('forcePathStyle')
      ? p.get('forcePathStyle') !== 'false'
      : Boolean(p.get('endpoint')),
  };
  if (u.username)
    options.credentials = {
      accessKeyId: decodeURIComponent(u.username),
      secretAccessKey: decodeURIComponent(u.password),
    };
  return options;
}

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

export class S3BlobBackend implements BlobBackend {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  /** The SDK, loaded with the first S3 backend (drivers.ts). */
  private readonly sdk = s3Driver();
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partBytes: number;

  constructor(options: S3BackendOptions) {
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? false,
      // Checksums only where S3 requires them: S3-compatible servers differ in their support of the newer ones.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (options.endpoint) config.endpoint = options.endpoint;
    if (options.credentials) config.credentials = options.credentials;
    this.client = new this.sdk.S3Client(config);
    this.bucket = options.bucket;
    this.prefix = options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : '';
    this.partBytes = Math.max(options.partBytes ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
  }

  private key(path: string) {
    return this.prefix + path;
  }

  async put(
    path: string,
    body: Readable,
    options: { maxBytes: number; precondition?: () => Promise<boolean> },
  ) {
    const Key = this.key(path);
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag: string | undefined }[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let size = 0;
    const flushPart = async () => {
      if (!uploadId) {
        const created = await this.client.send(
          new this.sdk.CreateMultipartUploadCommand({ Bucket: this.bucket, Key }),
        );
        uploadId = created.UploadId;
      }
      const PartNumber = parts.length + 1;
      const r = await this.client.send(
        new this.sdk.UploadPartCommand({
          Bucket: this.bucket,
          Key,
          UploadId: uploadId,
          PartNumber,
          Body: Buffer.concat(pending),
        }),
      );
      parts.push({ PartNumber, ETag: r.ETag });
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > options.maxBytes) throw new BlobTooLargeError(options.maxBytes);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= this.partBytes) await flushPart();
      }
      if (options.precondition && !(await options.precondition())) {
        if (uploadId)
          await this.client.send(
            new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId }),
          );
        return undefined;
      }
      if (!uploadId) {
        await this.client.send(
          new this.sdk.PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: Buffer.concat(pending),
            ContentLength: pendingBytes,
          }),
        );
      } else {
        if (pendingBytes > 0) await flushPart();
        await this.client.send(
          new this.sdk.CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      }
      return { size };
    } catch (err) {
      body.destroy();
      if (uploadId)
        await this.client
          .send(new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId }))
          .catch(() => {});
      throw err;
    }
  }

  async get(path: string): Promise<Readable | undefined> {
    try {
      const r = await this.client.send(
        new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }),
      );
      return r.Body as Readable;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async head(path: string, bytes: number): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          Range: `bytes=0-${bytes - 1}`,
        }),
      );
      return Buffer.from(await r.Body!.transformToByteArray()).subarray(0, bytes);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(path: string): Promise<boolean> {
    const Key = this.key(path);
    try {
      await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key }));
    return true;
  }

  async *list(prefix: string): AsyncIterable<string> {
    let ContinuationToken: string | undefined;
    do {
      const r = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.key(prefix),
          ContinuationToken,
        }),
      );
      for (const o of r.Contents ?? []) if (o.Key) yield o.Key.slice(this.prefix.length);
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async ping(): Promise<void> {
    await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
