// Public API of @prof/store: the ProfileStore contract and its embedded implementation.
export * from './types';
export { newProfileId, isProfileId, assertProfileId, InvalidIdError, PROFILE_ID_PATTERN } from './ids';
export { writeFileAtomic, fsyncDirectory, tempPathFor, TEMP_PREFIX } from './atomic-file';
export { FileBlobStore } from './file-blob-store';
export { readRanges, releaseRanges } from './range-reader';
export {
  SqliteProfileIndex,
  searchTextOf,
  MAX_PAGE,
  MAX_NAMES_PER_PROJECT,
  type SqliteIndexOptions,
} from './sqlite-index';
export { CompositeProfileStore, DuplicateIdError, openStore } from './embedded-store';
export type { OpenStoreOptions, RepairReport } from './embedded-store';
export { fieldsFromDocument, TEXT_LIMITS } from './from-document';
export {
  rebuildIndex,
  rowFromBlob,
  STORED_MAX_INFLATED_BYTES,
  UnreadableBlobError,
  type RebuildOptions,
  type RebuildReport,
  type StoreLog,
} from './reindex';
export { PostgresProfileIndex, parsePostgresUrl, MIGRATIONS, type PostgresIndexOptions } from './postgres-index';
export { S3BlobStore, parseS3Url, type S3BlobStoreOptions } from './s3-blob-store';
export {
  SharedProfileStore,
  openConfiguredStore,
  DEFAULT_GRACE_MS,
  type SweepReport,
  type SharedReindexOptions,
  type SharedReindexReport,
  type OpenSharedStoreOptions,
} from './shared-store';
export {
  SharedUploads,
  DEFAULT_UPLOAD_LEASE_MS,
  type ClaimedUpload,
  type SharedUploadStatus,
} from './shared-uploads';
export { StoreUnavailableError, isStoreUnavailable } from './unavailable';
