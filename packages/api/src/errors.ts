/**
 * Every `error.code` the server answers with, and its HTTP status: the closed list clients may switch
 * on (fastify's lib/errors.js is the model). An answer is always `{ error: { code, message } }`.
 * Each code is described in docs/errors.md (a test keeps the two lists equal).
 */
export const ERRORS = {
  // --- the request itself
  'bad-id': 400,
  'bad-query': 400,
  'bad-range': 400,
  'bad-thread': 400,
  'bad-frame': 400,
  'no-series': 400,
  'bad-request': 400,
  'bad-json': 400,
  'bad-multipart': 400,
  'bad-tree': 400,
  'bad-submit': 400,
  'too-long': 400,
  aborted: 400,
  'already-uploaded': 400,
  unauthorized: 401,
  'not-found': 404,
  processing: 404,
  'unknown-runtime': 404,
  'body-timeout': 408,
  'no-memory': 409,
  'no-clock': 409,
  'too-large': 413,
  'conversion-failed': 422,
  // --- what @prof/format finds wrong with an uploaded profile (ProfFormatError codes)
  'unknown-format': 400,
  empty: 400,
  gzipped: 400,
  'bad-gzip': 400,
  'bad-msgpack': 400,
  'bad-magic': 400,
  schema: 400,
  integrity: 400,
  'bad-header': 400,
  'big-endian': 400,
  'legacy-gperftools': 400,
  truncated: 400,
  'unknown-marker': 400,
  'length-out-of-range': 400,
  'depth-out-of-range': 400,
  'odd-depth': 400,
  'bad-count': 400,
  'unknown-pypy-kind': 400,
  'unsupported-version': 400,
  'duplicate-header': 400,
  'late-header': 400,
  'not-vmprof': 400,
  'bad-cpuprofile': 400,
  'bad-speedscope': 400,
  'bad-folded': 400,
  'bad-austin': 400,
  'too-new': 422,
  'bad-value': 422,
  // --- the server's side
  internal: 500,
  'stored-corrupt': 500,
  busy: 503,
  'summary-unavailable': 503,
  unavailable: 503,
  'no-web-app': 503,
  'storage-full': 507,
} as const;

export type ErrorCode = keyof typeof ERRORS;
/** The HTTP status of `C`. */
export type ErrorStatus<C extends ErrorCode = ErrorCode> = (typeof ERRORS)[C];

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}
