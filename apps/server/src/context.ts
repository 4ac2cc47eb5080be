import type { ProfileStore } from '@prof/store';
import type { DecodedCache } from './decoded-cache';
import type { UploadQueue } from './upload-queue';
import type { IngestLimits } from './ingest';

/** What every route module shares. */
export interface AppContext extends IngestLimits {
  store: ProfileStore;
  cache: DecodedCache;
  uploads: UploadQueue;
  token: string | null;
  /** Largest upload body accepted, bytes. */
  maxUploadBytes: number;
  /** Seed `/submit/` accepted without the token (its client cannot send one). */
  anonymousSubmit: boolean;
  /** The index is shared with other instances (PostgreSQL): cached profiles are checked against it. */
  shared?: boolean;
}
