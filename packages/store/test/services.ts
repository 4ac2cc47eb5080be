import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PostgresProfileIndex, S3BlobStore } from '../src/index';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string; url: string };
  }
}

/** A fresh index in a schema of its own on the run's PostgreSQL. */
export async function freshPostgresIndex(): Promise<PostgresProfileIndex> {
  return PostgresProfileIndex.open(inject('pgUrl'), { schema: `t_${randomBytes(6).toString('hex')}` });
}

/** An `s3://` URL under a fresh key prefix of the run's bucket. */
export function freshS3Url(): string {
  const s3 = inject('s3');
  const prefix = `t-${randomBytes(6).toString('hex')}/profiles`;
  return `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1`;
}

export function freshS3Store(
  overrides: ConstructorParameters<typeof S3BlobStore>[0] extends infer O ? Partial<O> : never = {},
): S3BlobStore {
  return S3BlobStore.fromUrl(freshS3Url(), overrides);
}
