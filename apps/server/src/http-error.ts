import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isProfFormatError } from '@prof/format';
import { InvalidIdError, isStoreUnavailable } from '@prof/store';

/** A client error with a stable code; rendered as `{ error: { code, message } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Codes of @prof/format errors that mean "too big" rather than "malformed". */
const TOO_LARGE_CODES = new Set(['too-large']);

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Maps every error to a JSON answer: 4xx naming what is wrong, 500 only for our own faults. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof HttpError) {
    void reply.code(error.status).send(errorBody(error.code, error.message));
    return;
  }
  if (isProfFormatError(error)) {
    const status = TOO_LARGE_CODES.has(error.code) ? 413 : error.code === 'too-new' ? 422 : 400;
    void reply.code(status).send(errorBody(error.code, error.message));
    return;
  }
  if (error instanceof InvalidIdError) {
    void reply.code(400).send(errorBody(error.code, error.message));
    return;
  }
  if (isStoreUnavailable(error)) {
    // The request was fine: PostgreSQL or S3 is down; clients may retry, load balancers route elsewhere.
    request.log.warn({ err: error }, 'store unavailable');
    void reply.code(503).header('Retry-After', '2').send(errorBody(error.code, error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    void reply.code(fastifyError.statusCode).send(errorBody(fastifyError.code ?? 'bad-request', fastifyError.message));
    return;
  }
  request.log.error({ err: error }, 'internal error');
  void reply.code(500).send(errorBody('internal', 'internal server error'));
}
