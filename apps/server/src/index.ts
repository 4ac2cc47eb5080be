// Public API of @prof/server: build the Fastify app (tests, embedding) or run it via cli.ts.
export {
  createServer,
  DEFAULT_MAX_INFLATED_BYTES,
  DEFAULT_WEB_ROOT,
  DEFAULT_DEMO_DIR,
  type ServerOptions,
  type ProfServer,
} from './server';
export { CONTENT_SECURITY_POLICY } from './routes/web';
export { HttpError } from './http-error';
export type { RetentionPolicy } from './retention';
