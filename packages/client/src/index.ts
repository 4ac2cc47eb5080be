// Public API of @prof/client: the decorator, delivery control, and the upload/spool building blocks the CLI uses.
export { profile, type ProfileOptions } from './decorator/profile';
export { flushProfiles, pendingDeliveries, type DeliveryOutcome } from './decorator/delivery';
export {
  uploadBytes,
  uploadUrl,
  UploadError,
  type UploadErrorCode,
  type UploadResult,
  type UploadTarget,
} from './transport/http-upload';
export { spoolSync, listSpool, removeSpoolEntry, type SpoolEntry, type SpoolMeta } from './spool/spool-dir';
export { DEFAULT_SERVER } from './config';
