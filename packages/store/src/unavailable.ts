/**
 * The index or the blob store cannot be reached right now (PostgreSQL or S3 down, connection cut).
 * Servers answer 503 with it: the request was fine and may be retried once the service is back.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'unavailable';
  constructor(
    readonly service: 'index' | 'blobs',
    readonly reason: string,
  ) {
    super(`the ${service === 'index' ? 'profile index' : 'blob store'} is unavailable: ${reason}`);
  }
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Network failures of any client: a Node socket error code somewhere in the cause chain. */
export function isNetworkError(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; cause?: unknown; errors?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (Array.isArray(e.errors) && e.errors.some(isNetworkError)) return true; // AggregateError of a dual-stack connect
    e = e.cause as typeof e;
  }
  return false;
}
