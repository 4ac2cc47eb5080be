import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat as statFile, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, SummaryParts, SummaryReader } from './types';
import { assertProfileId, isProfileId } from './ids';
import { StoreUnavailableError, isNetworkError } from './unavailable';

const SUFFIX = '.msgpack.gz';
const SUMMARY_SUFFIX = '.summary';
/** Object metadata holding the upload time (epoch ms), which a re-index reads back like a file's mtime. */
const UPLOADED_AT = 'uploaded-at';
/** Under the prefix: unreadable documents moved aside by repair, never deleted. */
const QUARANTINE = 'quarantine/';
/** Under the prefix: raw uploads acknowledged and not yet converted (`incoming/<id>.body`, see shared-uploads.ts). */
const INCOMING = 'incoming/';
const BODY_SUFFIX = '.body';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix; `profiles/` puts each profile at `profiles/<id>.msgpack.gz`. Default none. */
  prefix?: string;
  /** An S3-compatible server (MinIO, Ceph, R2, ...); default AWS. Path-style addressing is used with one. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Default: the AWS SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Default: true with an `endpoint`, false without. */
  forcePathStyle?: boolean;
  /** Documents at least this large are sent as a multipart upload. Default 16 MiB. */
  multipartThreshold?: number;
  /** Part size of multipart uploads (S3's minimum is 5 MiB). Default 8 MiB. */
  partSize?: number;
}

/**
 * `s3://[accessKey:secret@]bucket[/prefix]?endpoint=http://host:port&region=...&forcePathStyle=true`.
 * Credentials in the URL are for S3-compatible servers; on AWS leave them to the SDK's chain.
 */
export function parseS3Url(url: string): S3BlobStoreOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${JSON.stringify(url)} is not a URL: expected s3://bucket/prefix?endpoint=...&region=...`);
  }
  if (parsed.protocol !== 's3:' || !parsed.hostname)
    throw new Error(`${parsed.protocol}//${parsed.host}: expected s3://bucket/prefix?endpoint=...&region=...`);
  const options: S3BlobStoreOptions = { bucket: decodeURIComponent(parsed.hostname) };
  const prefix = decodeURIComponent(parsed.pathname.replace(/^\/+/, ''));
  if (prefix) options.prefix = prefix;
  if (parsed.username)
    options.credentials = {
      accessKeyId: decodeURIComponent(parsed.username),
      secretAccessKey: decodeURIComponent(parsed.password),
    };
  const params = parsed.searchParams;
  const endpoint = params.get('endpoint');
  if (endpoint) options.endpoint = endpoint;
  const region = params.get('region');
  if (region) options.region = region;
  const pathStyle = params.get('forcePathStyle');
  if (pathStyle !== null) options.forcePathStyle = pathStyle !== 'false' && pathStyle !== '0';
  for (const key of params.keys()) {
    if (!['endpoint', 'region', 'forcePathStyle'].includes(key))
      throw new Error(
        `s3 URL parameter ${JSON.stringify(key)} is unknown: expected endpoint, region or forcePathStyle`,
      );
  }
  return options;
}

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * Profiles as objects of one bucket. A PUT is atomic in S3 (the object appears whole or not at all),
 * so there are no temp objects; what an interrupted multipart upload leaves is invisible to GET and
 * LIST, and `removeIncomplete` aborts it.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : '';
    this.multipartThreshold = options.multipartThreshold ?? 16 * 1024 ** 2;
    this.partSize = Math.max(5 * 1024 ** 2, options.partSize ?? 8 * 1024 ** 2);
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.credentials,
      // Checksums only where S3 requires them: several S3-compatible servers reject the SDK's
      // default CRC32 headers and trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 120_000 },
    });
  }

  static fromUrl(url: string, overrides: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
    return new S3BlobStore({ ...parseS3Url(url), ...overrides });
  }

  keyOf(id: string): string {
    assertProfileId(id);
    return `${this.prefix}${id}${SUFFIX}`;
  }

  /** Network failures and server errors (5xx) become `StoreUnavailableError`. */
  private translate(error: unknown): unknown {
    const status = statusOf(error);
    if (isNetworkError(error) || (status !== undefined && status >= 500) || (error as Error).name === 'TimeoutError')
      return new StoreUnavailableError('blobs', (error as Error).message || (error as Error).name);
    return error;
  }

  private async send<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Resolves when the bucket answers (for readiness probes). */
  async ping(): Promise<void> {
    await this.send(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  async put(id: string, bytes: Uint8Array, options: { modifiedAt?: number } = {}): Promise<void> {
    const Metadata = { [UPLOADED_AT]: String(Math.floor(options.modifiedAt ?? Date.now())) };
    await this.putObject(this.keyOf(id), [bytes], Metadata);
  }

  /** One PUT below the multipart threshold; above it, a multipart upload streamed from the parts (never joined). */
  private async putObject(Key: string, input: SummaryParts, Metadata: Record<string, string>): Promise<void> {
    let parts = Array.isArray(input) ? (input as readonly Uint8Array[]) : null;
    const stream = parts ? null : (input as Exclude<SummaryParts, readonly Uint8Array[]>);
    const size = stream ? stream.size : parts!.reduce((n, p) => n + p.byteLength, 0);
    // A small stream is read into memory (one PUT, retried as is); a large one is opened per attempt.
    if (stream && size < this.multipartThreshold) {
      const read: Uint8Array[] = [];
      for await (const part of stream.open()) read.push(Uint8Array.from(part));
      parts = read;
    }
    const buffers = parts ? parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)) : [];
    await this.send(async () => {
      if (parts && size < this.multipartThreshold) {
        const Body = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, size);
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body, ContentLength: size, Metadata }));
        return;
      }
      const Body = !parts
        ? Readable.from(stream!.open(), { objectMode: false })
        : buffers.length === 1
          ? buffers[0]
          : Readable.from(buffers);
      // Aborts the upload on failure: no part is left behind when the store answers the abort.
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key, Body, Metadata },
        partSize: this.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    });
  }

  async get(id: string): Promise<Buffer | null> {
    if (!isProfileId(id)) return null;
    return this.send(async () => {
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }));
        const body = await response.Body!.transformToByteArray();
        return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey' || statusOf(error) === 404) return null;
        throw error;
      }
    });
  }

  async stat(id: string): Promise<{ sizeBytes: number; modifiedAt: number } | null> {
    if (!isProfileId(id)) return null;
    return this.send(async () => {
      try {
        const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }));
        const recorded = Number(head.Metadata?.[UPLOADED_AT]);
        const modifiedAt = Number.isFinite(recorded) ? recorded : Math.floor(head.LastModified?.getTime() ?? 0);
        return { sizeBytes: head.ContentLength ?? 0, modifiedAt };
      } catch (error) {
        if ((error as Error).name === 'NotFound' || statusOf(error) === 404) return null;
        throw error;
      }
    });
  }

  /** Moves an unreadable document under `quarantine/` with its reason beside it: never deleted. */
  async quarantine(id: string, reason: string): Promise<void> {
    const key = this.keyOf(id);
    const target = `${this.prefix}${QUARANTINE}${id}${SUFFIX}`;
    await this.send(async () => {
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: `${this.bucket}/${key}` }),
      );
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: `${this.prefix}${QUARANTINE}${id}.reason.txt`,
          Body: Buffer.from(`${reason}\n`),
        }),
      );
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      // Derived from the document: with the document unreadable it describes nothing.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.summaryKeyOf(id) }));
    });
  }

  async quarantined(): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await this.send(() =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: `${this.prefix}${QUARANTINE}`,
            ContinuationToken: token,
          }),
        ),
      );
      count += (page.Contents ?? []).filter((o) => o.Key?.endsWith(SUFFIX)).length;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return count;
  }

  async delete(id: string): Promise<void> {
    await this.send(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) })));
  }

  summaryKeyOf(id: string): string {
    assertProfileId(id);
    return `${this.prefix}${id}${SUMMARY_SUFFIX}`;
  }

  async putSummary(id: string, parts: SummaryParts): Promise<void> {
    await this.putObject(this.summaryKeyOf(id), parts, {});
  }

  /** Ranged GETs: a query reads the few kilobytes it touches, never the whole object. */
  async openSummary(id: string): Promise<SummaryReader | null> {
    if (!isProfileId(id)) return null;
    const Key = this.summaryKeyOf(id);
    const size = await this.send(async () => {
      try {
        const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
        return head.ContentLength ?? 0;
      } catch (error) {
        if ((error as Error).name === 'NotFound' || statusOf(error) === 404) return null;
        throw error;
      }
    });
    if (size === null) return null;
    return {
      size,
      read: (offset: number, length: number) =>
        this.send(async () => {
          const response = await this.client.send(
            new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${offset}-${offset + length - 1}` }),
          );
          const body = await response.Body!.transformToByteArray();
          if (body.byteLength !== length)
            throw new RangeError(`summary ${id}: asked ${length} bytes at ${offset}, got ${body.byteLength}`);
          return body;
        }),
      close: async () => {},
    };
  }

  async deleteSummary(id: string): Promise<void> {
    await this.send(() =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.summaryKeyOf(id) })),
    );
  }

  async listSummaries(): Promise<string[]> {
    return (await this.listKeys(SUMMARY_SUFFIX)).map((k) => k.id);
  }

  /** Ids of the objects directly under the prefix whose name ends with `suffix`, with their modification time. */
  private async listKeys(suffix: string): Promise<{ id: string; modifiedAt: number }[]> {
    const out: { id: string; modifiedAt: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.send(() =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(this.prefix.length) ?? '';
        if (!name.endsWith(suffix)) continue;
        const id = name.slice(0, -suffix.length);
        if (isProfileId(id)) out.push({ id, modifiedAt: object.LastModified!.getTime() });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async list(options: { modifiedBefore?: number } = {}): Promise<string[]> {
    const bound = options.modifiedBefore;
    return (await this.listKeys(SUFFIX)).filter((k) => bound === undefined || k.modifiedAt < bound).map((k) => k.id);
  }

  /** Aborts multipart uploads started before the bound; 0 on a server that cannot list them. */
  async removeIncomplete(options: { modifiedBefore?: number } = {}): Promise<number> {
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
      } catch (error) {
        if ((error as Error).name === 'NotImplemented' || statusOf(error) === 501) return removed;
        throw this.translate(error);
      }
      for (const upload of page.Uploads ?? []) {
        if (options.modifiedBefore !== undefined && !(upload.Initiated!.getTime() < options.modifiedBefore)) continue;
        await this.send(() =>
          this.client.send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }),
          ),
        );
        removed++;
      }
      if (!page.IsTruncated) return removed;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  incomingKeyOf(id: string): string {
    assertProfileId(id);
    return `${this.prefix}${INCOMING}${id}${BODY_SUFFIX}`;
  }

  /** Stores the raw upload in file `path` as `incoming/<id>.body`, streamed (multipart past the threshold). */
  async putIncoming(id: string, path: string): Promise<void> {
    const Key = this.incomingKeyOf(id);
    const size = (await statFile(path)).size;
    await this.send(async () => {
      if (size < this.multipartThreshold) {
        const Body = await readFile(path);
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body, ContentLength: size }));
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key, Body: createReadStream(path) },
        partSize: this.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    });
  }

  /** Writes `incoming/<id>.body` to file `path`; false (no file) when there is none. */
  async getIncoming(id: string, path: string): Promise<boolean> {
    const Key = this.incomingKeyOf(id);
    return this.send(async () => {
      let response: { Body?: unknown };
      try {
        response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey' || statusOf(error) === 404) return false;
        throw error;
      }
      try {
        await pipeline(response.Body as Readable, createWriteStream(path));
      } catch (error) {
        await unlink(path).catch(() => {});
        throw error;
      }
      return true;
    });
  }

  async deleteIncoming(id: string): Promise<void> {
    await this.send(() =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.incomingKeyOf(id) })),
    );
  }

  /** Ids with a raw upload under `incoming/`, with its modification time. */
  async listIncoming(): Promise<{ id: string; modifiedAt: number }[]> {
    const out: { id: string; modifiedAt: number }[] = [];
    const prefix = `${this.prefix}${INCOMING}`;
    let token: string | undefined;
    do {
      const page = await this.send(() =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(prefix.length) ?? '';
        const id = name.slice(0, -BODY_SUFFIX.length);
        if (name.endsWith(BODY_SUFFIX) && isProfileId(id)) out.push({ id, modifiedAt: object.LastModified!.getTime() });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
