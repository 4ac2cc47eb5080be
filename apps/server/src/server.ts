import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { SharedProfileStore, openConfiguredStore, type CompositeProfileStore } from '@prof/store';
import { DecodedCache } from './decoded-cache';
import { BytesCache } from './bytes-cache';
import { UploadQueue } from './upload-queue';
import { handleError } from './http-error';
import { registerReadApi } from './routes/read-api';
import { registerUploads } from './routes/uploads';
import { registerWeb } from './routes/web';
import { loadDemosOnFirstStart } from './demo';
import { startRetention, type RetentionPolicy } from './retention';
import type { AppContext } from './context';
import { registerMetrics } from './metrics';
import { registerReady, startSweeps } from './shared';

export interface ServerOptions {
  /** Data directory (profiles, index, incoming uploads). Default `./prof-data`. */
  dataDir?: string;
  /** `postgres://...`: the index in PostgreSQL, shared with other instances. Default: SQLite in `dataDir`. */
  index?: string;
  /** `s3://bucket/prefix?endpoint=...&region=...`: the documents in a bucket. Default: files in `dataDir`. */
  blobs?: string;
  /**
   * With a shared store: a blob without a row is removed once older than this (an upload that failed
   * between its blob and its row); swept at start and every `graceMs`. Default 10 minutes.
   */
  graceMs?: number;
  /** Token required for uploads and deletes; null or absent = open. */
  token?: string | null;
  /** Built web app; default `apps/web/dist` of this checkout; null serves no pages. */
  webRoot?: string | null;
  /** Profiles loaded into an empty store on first start; default `apps/server/demo` (none with a shared store); null = none. */
  demoDir?: string | null;
  /** Largest upload body. Default 2 GiB. */
  maxUploadBytes?: number;
  /**
   * Largest inflated size of a gzipped upload (a `.msgpack.gz` document, or a gzipped vmprof file):
   * the gzip-bomb guard. Default 2 GiB, the same as the largest uncompressed upload.
   */
  maxInflatedBytes?: number;
  /** Bound of the decoded-document cache. Default 1 GiB. */
  cacheBytes?: number;
  /** Bound of the cache of stored document bytes served by `/document`. Default 256 MiB. */
  bytesCacheBytes?: number;
  /** Profiles to keep (checked at start and hourly); default: keep everything. */
  retention?: RetentionPolicy;
  /** Accept the seed client's `/submit/` without the token (it cannot send one). Default false. */
  anonymousSubmit?: boolean;
  logger?: FastifyServerOptions['logger'];
}

export interface ProfServer {
  app: FastifyInstance;
  store: CompositeProfileStore;
  uploads: UploadQueue;
  cache: DecodedCache;
  dataDir: string;
  /** Listens and resolves to the base URL. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  close(): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));
// Both src/ (tests) and dist/ (built) sit one level below apps/server.
export const DEFAULT_WEB_ROOT = resolve(here, '../../web/dist');
export const DEFAULT_DEMO_DIR = resolve(here, '../demo');

export async function createServer(options: ServerOptions = {}): Promise<ProfServer> {
  const dataDir = resolve(options.dataDir ?? './prof-data');
  const store = await openConfiguredStore({
    dir: dataDir,
    index: options.index,
    blobs: options.blobs,
    graceMs: options.graceMs,
  });
  const shared = store instanceof SharedProfileStore;
  const app = Fastify({
    logger: options.logger ?? false,
    routerOptions: {
      ignoreTrailingSlash: true, // vmprof clients mix `/freeze/` and `/add`
      ignoreDuplicateSlashes: true, // `//submit/` (seed decorator URL) and `/api/jitlog//`
    },
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
  });
  const maxInflatedBytes = options.maxInflatedBytes ?? 2 * 1024 ** 3;
  const cache = new DecodedCache(
    new BytesCache(store, options.bytesCacheBytes ?? 256 * 1024 ** 2),
    options.cacheBytes ?? 1024 ** 3,
    maxInflatedBytes,
  );
  const uploads = new UploadQueue(join(dataDir, 'incoming'), store, cache, { maxInflatedBytes }, app.log);
  const ctx: AppContext = {
    store,
    cache,
    uploads,
    token: options.token || null,
    maxUploadBytes: options.maxUploadBytes ?? 2 * 1024 ** 3,
    maxInflatedBytes,
    anonymousSubmit: options.anonymousSubmit ?? false,
    shared: shared && options.index !== undefined,
  };

  app.setErrorHandler(handleError);
  registerMetrics(app, { store, cache });
  registerReady(app, store);
  registerReadApi(app, ctx);
  await app.register(async (scope) => registerUploads(scope, ctx));
  await registerWeb(app, options.webRoot === undefined ? DEFAULT_WEB_ROOT : options.webRoot);

  await uploads.start();
  // Several instances starting on one empty shared store would each load the demos.
  const demoDir = options.demoDir === undefined ? (shared ? null : DEFAULT_DEMO_DIR) : options.demoDir;
  if (demoDir) await loadDemosOnFirstStart(store, dataDir, demoDir, { maxInflatedBytes }, app.log);
  const stopRetention = startRetention(ctx, options.retention ?? {}, app.log);
  const stopSweeps = store instanceof SharedProfileStore ? startSweeps(store, app.log) : async () => {};

  let closed = false;
  return {
    app,
    store,
    uploads,
    cache,
    dataDir,
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      await app.listen({ port, host });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return `http://${shownHost}:${actualPort}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await stopRetention();
      await stopSweeps();
      await uploads.idle();
      await store.close();
    },
  };
}
