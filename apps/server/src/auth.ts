import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './http-error';

/**
 * Writes and deletes need the server's token when it has one. Accepted as `Bearer T` (our clients,
 * curl) or `Token T` (the vmprof client's `--web-auth`, DRF style).
 */
export function requireToken(token: string | null, request: FastifyRequest): void {
  if (!token) return;
  const header = request.headers.authorization ?? '';
  const m = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header);
  if (!m)
    throw new HttpError(
      401,
      'unauthorized',
      'this server needs a token for uploads and deletes: send "Authorization: Bearer <token>"',
    );
  const given = Buffer.from(m[1]);
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError(401, 'unauthorized', 'invalid token');
  }
}
