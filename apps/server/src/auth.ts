import { createHash, timingSafeEqual } from 'node:crypto';
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
      'this server needs a token for uploads and deletes: send "Authorization: Bearer <token>" (the vmprof client: --web-auth <token>)',
    );
  // Digests of both sides: equal lengths whatever was sent, so the comparison tells nothing of the token's length.
  const given = createHash('sha256').update(m[1]).digest();
  const expected = createHash('sha256').update(token).digest();
  if (!timingSafeEqual(given, expected)) {
    throw new HttpError(401, 'unauthorized', 'invalid token');
  }
}
