import type { ProfileStore } from '@prof/store';
import type { DecodedCache } from './decoded-cache';
import type { UploadQueue } from './upload-queue';
import type { IngestLimits } from './ingest';
import type { WorkPool } from './work-pool';
import type { RuntimeIds } from './runtime-ids';
import type { SummariesCache } from './summaries-cache';
import type { QuietTime } from './quiet';

/** What every route module shares. */
export interface AppContext extends IngestLimits {
  store: ProfileStore;
  cache: DecodedCache;
  /** Opened summaries containers: what /memory and /stacks answer from without decoding the document. */
  summaries: SummariesCache;
  /** Moments without requests, for work no request waits for. */
  quiet: QuietTime;
  uploads: UploadQueue;
  token: string | null;
  /** The data directory (its disk's free space is reported by /health). */
  dataDir: string;
  /** The worker threads every heavy task runs on (inflate, decode, convert, check); beyond its queue, 503 busy. */
  pool: WorkPool;
  /** Signs the vmprof client's runtime ids; uploads to ids it did not issue get 404 `unknown-runtime`. */
  runtimeIds: RuntimeIds;
  /** Largest upload body accepted, bytes. */
  maxUploadBytes: number;
  /** The vmprof-viewer client's `/submit/` and vmprof 0.3.x jitlogs accepted without the token (their clients cannot send one). */
  anonymousSubmit: boolean;
  /** Project given to uploads that name none (`--default-project`), or null. */
  defaultProject: string | null;
  /** The index is shared with other instances (PostgreSQL): cached profiles are checked against it. */
  shared?: boolean;
}
