import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { HttpError } from './http-error';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A write whose client cannot send the token (the vmprof-viewer client's `/submit/`, vmprof 0.3.x's jitlog):
     * let in without it when the server runs with `--anonymous-submit`.
     */
    anonymousSubmit?: boolean;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The token check of every write route, as one `onRequest` hook added to each route that is not a read
 * when it is registered: a new upload or delete route cannot forget it. It runs before the body is read.
 */
export function registerTokenHook(app: FastifyInstance, options: { token: string | null; anonymousSubmit: boolean }) {
  const check: onRequestHookHandler = async (request) => requireToken(options.token, request);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => READ_METHODS.has(m))) return;
    if (route.config?.anonymousSubmit && options.anonymousSubmit) return;
    const own = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [check, ...own];
  });
}

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
