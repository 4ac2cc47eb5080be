import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorBody } from '../http-error';

/**
 * No inline script anywhere: profile strings come from user code and are rendered as text; the
 * policy makes any escaping slip inert. Inline styles stay allowed (uPlot and Preact set styles).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Client-side routes of the web app: served its index.html. */
const SPA_PREFIXES = ['/profiles/', '/projects', '/search', '/compare'];

export async function registerWeb(app: FastifyInstance, webRoot: string | null): Promise<void> {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      reply.header('X-Frame-Options', 'DENY');
    }
    return payload;
  });

  const hasWeb = webRoot !== null && existsSync(join(webRoot, 'index.html'));
  if (hasWeb) {
    await app.register(fastifyStatic, {
      root: webRoot,
      wildcard: true,
      index: ['index.html'],
      cacheControl: false,
      setHeaders(res, path) {
        // Vite puts content hashes in asset names; index.html must be revalidated to see new ones.
        res.header(
          'Cache-Control',
          path.startsWith(join(webRoot, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const wantsPage =
      request.method === 'GET' &&
      !path.startsWith('/api/') &&
      (path === '/' || SPA_PREFIXES.some((p) => path.startsWith(p)));
    if (wantsPage && hasWeb) {
      return reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html');
    }
    if (wantsPage) {
      return reply.code(503).send(errorBody('no-web-app', 'the web app is not built (run the build of apps/web)'));
    }
    return reply.code(404).send(errorBody('not-found', `no route for ${request.method} ${path}`));
  });
}
