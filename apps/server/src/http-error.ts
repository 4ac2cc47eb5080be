import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isBinningError } from '@prof/binning';
import { FORMAT_ERROR_CODES, isProfFormatError } from '@prof/format';
import { InvalidIdError, isStoreUnavailable } from '@prof/store';
import { ERRORS, type ErrorCode, type ErrorStatus } from '@prof/api';

/** Seconds a client is asked to wait when the server is saturated (503 `busy`). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * An error answer with a code of the catalogue (@prof/api `ERRORS`); rendered as `{ error: { code, message } }`.
 * The status is the code's own: `new HttpError(400, 'no-memory', …)` does not compile.
 */
export class HttpError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly status: ErrorStatus<C>,
    readonly code: C,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What @prof/format throws, as answered: each `ProfFormatError` code is a code of the catalogue, with the
 * status it gives there (a format code missing from `ERRORS` does not compile). Tested against docs/errors.md.
 */
export const FORMAT_CODES: readonly ErrorCode[] = FORMAT_ERROR_CODES;

/** An `HttpError` of `code` with its catalogue status. */
export function httpError(code: ErrorCode, message: string): HttpError {
  return new HttpError(ERRORS[code], code, message);
}

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

/** A write that failed because the disk (or SQLite's file on it) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** Maps every error to a JSON answer: 4xx naming what is wrong, 500 only for our own faults. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  // Answered before the whole body arrived (a 401, 404, 413 from the headers): the connection closes, so
  // neither is the rest waited for (a client that declared 1 MB and stopped held its socket for minutes)
  // nor parsed as the next request.
  if (!request.raw.complete) reply.header('Connection', 'close');
  if (isDiskFull(error)) {
    request.log.error({ err: error }, 'disk full');
    void reply
      .code(507)
      .send(
        errorBody(
          'storage-full',
          "the server's disk is full: nothing was stored; free space or delete profiles (DELETE /api/profiles/<id> works on a full disk)",
        ),
      );
    return;
  }
  if (error instanceof HttpError) {
    if (error.status === 503) reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
    else if (error.status >= 500) request.log.error({ code: error.code }, error.message);
    void reply.code(error.status).send(errorBody(error.code, error.message));
    return;
  }
  if (isProfFormatError(error)) {
    const code: ErrorCode = error.code; // FORMAT_CODES below: every format code is one of ours
    void reply.code(ERRORS[code]).send(errorBody(code, error.message));
    return;
  }
  if (isBinningError(error)) {
    // A thread or series the profile does not have: every binning code is in the catalogue.
    const code: ErrorCode = error.code;
    void reply.code(ERRORS[code]).send(errorBody(code, error.message));
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
    // Fastify's own client errors (a bad URL, a body over a route's limit): its status, a code of ours.
    const code = fastifyError.statusCode === 413 ? 'too-large' : 'bad-request';
    void reply.code(fastifyError.statusCode).send(errorBody(code, fastifyError.message));
    return;
  }
  request.log.error({ err: error }, 'internal error');
  void reply.code(500).send(errorBody('internal', 'internal server error'));
}
