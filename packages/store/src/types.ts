/**
 * The store's contracts. `ProfileStore` is what the server talks to; the embedded implementation
 * composes a `BlobStore` (the `.msgpack.gz` bytes) and a `ProfileIndex` (searchable rows), so a
 * PostgreSQL index or an S3-compatible blob store can replace either half.
 */

/** Index fields of a profile that the uploader or the document provides. */
export interface ProfileFields {
  /** Project chosen by the uploader, or null. */
  project: string | null;
  /** Top-level function name, or null. */
  name: string | null;
  /** Free-form tags. */
  tags: Record<string, string>;
  /** `cpython`, `pypy`, `node`, ... or null. */
  interpreter: string | null;
  /** Host name of the profiled machine, or null. */
  host: string | null;
  /** Wall-clock start, epoch ms, or null when unknown. */
  start: number | null;
  /** Wall-clock end, epoch ms, or null when unknown. */
  end: number | null;
  durationMs: number;
  sampleCount: number;
  /** Largest memory reading in bytes, or null without memory. */
  peakMemory: number | null;
  hasMemory: boolean;
  /** Number of threads seen. */
  threads: number;
  /**
   * Time zone of the recording machine (IANA name, UTC offset or abbreviation, as the document's
   * `meta.zone`), or null when unknown. Optional on input (older callers); always set on a row.
   */
  zone?: string | null;
}

/** One index row: the fields plus what the store adds. */
export interface ProfileRow extends ProfileFields {
  id: string;
  /** Null when unknown, and for profiles indexed before the index kept zones (schema 5 and older). */
  zone: string | null;
  /** Size of the stored `.msgpack.gz` in bytes. */
  sizeBytes: number;
  /** Upload time, epoch ms. */
  uploadedAt: number;
}

/** A row as an index is given it: `zone` may be left out (unknown), as before the index kept zones. */
export type IndexRowInput = ProfileFields & Pick<ProfileRow, 'id' | 'sizeBytes' | 'uploadedAt'>;

export type SortKey =
  | 'uploadedAt'
  | 'start'
  | 'durationMs'
  | 'peakMemory'
  | 'sampleCount'
  | 'sizeBytes'
  | 'project'
  | 'name';
export const SORT_KEYS: readonly SortKey[] = [
  'uploadedAt',
  'start',
  'durationMs',
  'peakMemory',
  'sampleCount',
  'sizeBytes',
  'project',
  'name',
];

export interface SearchQuery {
  /** Case-insensitive substring of the project or the function name. */
  q?: string;
  /** Exact project. */
  project?: string;
  /** Exact function name. */
  name?: string;
  /** Tag filters: `{env: 'prod'}` needs that value; a value of `null` only needs the key. */
  tags?: Record<string, string | null>;
  /** Profiles whose start (upload time when the start is unknown) is at or after this epoch ms. */
  from?: number;
  /** ... and at or before this epoch ms. */
  to?: number;
  hasMemory?: boolean;
  /** Default `uploadedAt`. */
  sort?: SortKey;
  /** Default `desc`. */
  order?: 'asc' | 'desc';
  /** Default 50, at most 1000. */
  limit?: number;
  offset?: number;
}

export interface SearchResult {
  /** Rows matching the filters, before paging. */
  total: number;
  items: ProfileRow[];
}

export interface ProjectSummary {
  /** null for profiles uploaded without a project. */
  project: string | null;
  count: number;
  /** Latest upload time, epoch ms. */
  lastUpload: number;
  /** How many distinct top-level function names the project has. */
  nameCount: number;
  /** Its top-level function names, most profiles first (at most 100; see `nameCount`). */
  names: { name: string | null; count: number }[];
  /** Largest peak memory of its profiles in bytes, or null when none has memory. */
  peakMemory: number | null;
  /** Duration of its latest upload, ms. */
  lastDurationMs: number;
  /** Sum of its profiles' durations, ms. */
  totalDurationMs: number;
}

export interface PruneOptions {
  /** Delete profiles uploaded more than this many ms ago. */
  olderThanMs?: number;
  /** Then delete the oldest uploads until the stored bytes fit. */
  maxTotalBytes?: number;
  /** Clock for tests and tools; default `Date.now()`. */
  now?: number;
}

export interface PruneResult {
  deleted: string[];
  freedBytes: number;
}

export interface PutOptions {
  /** Use this id (must satisfy `isProfileId` and be unused) instead of a fresh random one. */
  id?: string;
  /** Upload time, default now. */
  uploadedAt?: number;
}

export interface ProfileStore {
  /** Stores the bytes atomically, then indexes them; returns the new row. */
  put(bytes: Uint8Array, fields: ProfileFields, options?: PutOptions): Promise<ProfileRow>;
  /** The index row, or null (also for an invalid id). */
  get(id: string): Promise<ProfileRow | null>;
  /** The stored bytes exactly as put, or null. */
  getBytes(id: string): Promise<Buffer | null>;
  search(query?: SearchQuery): Promise<SearchResult>;
  projects(): Promise<ProjectSummary[]>;
  /** True when something was deleted. */
  delete(id: string): Promise<boolean>;
  prune(options: PruneOptions): Promise<PruneResult>;
  /** Number of profiles and their total stored size. */
  stats(): Promise<{ count: number; totalBytes: number }>;
  /** Stored files that could not be read and were moved aside (never deleted) by repair. */
  quarantined(): Promise<number>;
  /**
   * Stores a profile's summaries container (`@prof/binning`'s `SummariesBuilder` output, the parts
   * written one after the other) atomically beside its document. Derived data: deleted and
   * quarantined with the document, rebuilt from it when missing.
   */
  putSummary(id: string, parts: SummaryParts): Promise<void>;
  /** Ranged reads over a stored summary (an `openSummaries` source), or null when there is none. */
  openSummary(id: string): Promise<SummaryReader | null>;
  close(): Promise<void>;
}

/**
 * A summaries container's bytes: parts in memory, or, for one too long to hold (built in a
 * scratch file), its length and a stream of its bytes, opened afresh for each attempt to write it.
 * `path`, when given, is that file, already on disk (fsynced) and the caller's to give away: a store
 * on the same file system moves it into place instead of copying it (a ×64 container is 438 MB).
 */
export type SummaryParts = readonly Uint8Array[] | { size: number; open(): AsyncIterable<Uint8Array>; path?: string };

/** A stored summary opened for ranged reads; `close` releases its file handle (if any). */
export interface SummaryReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** `read` into the caller's buffer (returned as a view of it): local files, where reads are cheap enough to be many. */
  readInto?(into: Uint8Array, offset: number, length: number): Promise<Uint8Array>;
  /** Many ranges (offset, length pairs) in one hop, returned one after another in one buffer (local files). */
  readMany?(ranges: readonly number[]): Promise<Uint8Array>;
  /** Takes back bytes `readMany` returned, for a later batch to reuse: the caller reads them no more. */
  release?(bytes: Uint8Array): void;
  close(): Promise<void>;
}

/**
 * Where profile bytes live (a directory here; an S3-compatible bucket next: PUT is atomic there,
 * `list` is ListObjectsV2 with LastModified, `removeIncomplete` aborts stale multipart uploads).
 * Implementations must make `put` atomic: all bytes or nothing.
 */
export interface BlobStore {
  /** `modifiedAt` (epoch ms) is kept as the blob's modification time: the upload time a re-index reads back. */
  put(id: string, bytes: Uint8Array, options?: { modifiedAt?: number }): Promise<void>;
  get(id: string): Promise<Buffer | null>;
  /** Size and modification time (epoch ms, whole) of a stored blob, or null. */
  stat(id: string): Promise<{ sizeBytes: number; modifiedAt: number } | null>;
  /** Moves an unreadable blob aside with the reason, out of `list`; nothing is deleted. */
  quarantine(id: string, reason: string): Promise<void>;
  /** How many blobs are in quarantine. */
  quarantined(): Promise<number>;
  delete(id: string): Promise<void>;
  /** Every stored id, or only those last written before `modifiedBefore` (epoch ms) (used by repair). */
  list(options?: { modifiedBefore?: number }): Promise<string[]>;
  /** Removes leftovers of interrupted writes (started before `modifiedBefore`). Returns how many were removed. */
  removeIncomplete(options?: { modifiedBefore?: number }): Promise<number>;
  /** Writes `<id>.summary` atomically (see `ProfileStore.putSummary`). */
  putSummary(id: string, parts: SummaryParts): Promise<void>;
  openSummary(id: string): Promise<SummaryReader | null>;
  deleteSummary(id: string): Promise<void>;
  /** Ids that have a summary (repair and sweeps drop those whose document is gone). */
  listSummaries(): Promise<string[]>;
}

/**
 * The searchable index of rows (SQLite here; PostgreSQL next: the same columns, pg_trgm for the
 * substring search, the same count-then-page contract).
 */
export interface ProfileIndex {
  insert(row: IndexRowInput): Promise<void>;
  get(id: string): Promise<ProfileRow | null>;
  remove(ids: string[]): Promise<number>;
  search(query: SearchQuery): Promise<SearchResult>;
  projects(): Promise<ProjectSummary[]>;
  /** Every indexed id (used by start-up repair). */
  ids(): Promise<string[]>;
  /** Ids to delete so that nothing is older than `before` and the total fits `maxTotalBytes`, oldest first. */
  pruneCandidates(options: { before?: number; maxTotalBytes?: number }): Promise<{ id: string; sizeBytes: number }[]>;
  stats(): Promise<{ count: number; totalBytes: number }>;
  close(): Promise<void>;
}
