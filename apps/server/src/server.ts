import { compileSerializer } from './serializer';
import { apiUrlFromQueryBase } from './protocols/query-base-url';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { fileURLToPath } from 'node:url';
import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  openConfiguredStore,
  SharedProfileStore,
  STORED_MAX_INFLATED_BYTES,
  type CompositeProfileStore,
} from '@prof/store';
import { DecodedCache } from './decoded-cache';
import { BytesCache } from './bytes-cache';
import { UploadQueue } from './upload-queue';
import { HttpError, handleError } from './http-error';
import { armBodyTimeout } from './body';
import { registerTokenHook } from './auth';
import { CONTRACT_KEYWORDS, registerContract, validationError } from './contract';
import { WorkPool } from './work-pool';
import { RuntimeIds, runtimeSecret } from './runtime-ids';
import { SummariesCache } from './summaries-cache';
import { QuietTime } from './quiet';
import { registerReadApi } from './routes/read-api';
import { registerCompareApi } from './routes/compare-api';
import { registerCpuApi } from './routes/cpu-api';
import { DecodedCpuSource, SummariesCpuSource } from './cpu-source';
import { CompareSource } from './compare-source';
import { registerUploads } from './routes/uploads';
import { registerWeb } from './routes/web';
import { loadDemosOnFirstStart } from './demo';
import { startRetention, type RetentionPolicy } from './retention';
import type { AppContext } from './context';
import { registerMetrics } from './metrics';
import { registerReady, startSweeps } from './shared';
import { HealthProbe, registerHealth } from './health';

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
  /**
   * With PostgreSQL + S3: how long an upload acknowledged before conversion stays this instance's job
   * without a renewal (renewed every third of it); once it runs out, another instance converts it. Default 30 s.
   */
  uploadLeaseMs?: number;
  /** Token required for uploads and deletes; null or absent = open. */
  token?: string | null;
  /**
   * Secret the vmprof client's runtime ids are signed with (instances sharing a store need the same one).
   * Default: derived from the token, else a random one kept in `<data>/runtime.secret`.
   */
  runtimeSecret?: string | null;
  /** Built web app; default `apps/web/dist` of this checkout; null serves no pages. */
  webRoot?: string | null;
  /** Profiles loaded into an empty store on first start; default `apps/server/demo` (none with a shared store); null = none. */
  demoDir?: string | null;
  /** Largest upload body, and largest inflated gzipped vmprof profile. Default `DEFAULT_MAX_UPLOAD_BYTES` (32 GiB). */
  maxUploadBytes?: number;
  /**
   * Largest inflated size of a gzipped upload (a `.msgpack.gz` document, a vmprof-viewer blob), on
   * every upload route: the gzip-bomb guard, counted as a stream before anything is inflated into
   * memory. Default `DEFAULT_MAX_INFLATED_BYTES` (64 MiB): 30 times the largest real document we
   * have (big_memory, 2.1 MB inflated), and above its raw vmprof file (59.7 MiB). A gzipped vmprof
   * file may inflate past it up to `maxUploadBytes` (converted as a stream), unless it inflates more
   * than 500 times what was read (`BOMB_RATIO`: a bomb).
   */
  maxInflatedBytes?: number;
  /** A request whose body stops arriving for this long is dropped (its temp file removed). Default 30 s; 0 = never. */
  bodyIdleTimeoutMs?: number;
  /** Worker threads of the pool that validates and converts uploads (the rest wait, bodies over 1 MiB on disk). Default: the available cores. */
  maxConcurrentIngest?: number;
  /** Tasks waiting for a thread; more get 503 `busy` with Retry-After. Default 1000. */
  maxWaitingIngest?: number;
  /** Bound of the decoded-document cache. Default 256 MiB (1 GiB let 200 concurrent big uploads reach 1.4 GB RSS). */
  cacheBytes?: number;
  /** Bound of the cache of stored document bytes served by `/document`. Default 256 MiB. */
  bytesCacheBytes?: number;
  /**
   * Longest profile (samples) whose views decode its whole document when its summaries cannot be
   * built; longer ones answer 503 `summary-unavailable` until a build succeeds. Default 2,000,000.
   */
  fallbackMaxSamples?: number;
  /** Profiles to keep (checked at start and hourly); default: keep everything. */
  retention?: RetentionPolicy;
  /**
   * Accept the uploads of clients that cannot send the token without it: the vmprof-viewer client's `/submit/`
   * and vmprof 0.3.x's jitlog (`/api/jitlog/`, drained, never kept). Default false.
   */
  anonymousSubmit?: boolean;
  /** Project of uploads that name none (the vmprof client has no project option). Default none. */
  defaultProject?: string | null;
  logger?: FastifyServerOptions['logger'];
}

export interface ProfServer {
  app: FastifyInstance;
  store: CompositeProfileStore;
  uploads: UploadQueue;
  cache: DecodedCache;
  dataDir: string;
  /** Every route registered (HEAD routes Fastify adds to GET ones included): what the contract tests walk. */
  routes: { method: string; url: string; config: { anonymousSubmit?: boolean } }[];
  /** Listens and resolves to the base URL. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_INFLATED_BYTES = 64 * 1024 ** 2;
/**
 * Largest upload body (and largest inflated gzipped vmprof profile): uploads go to disk and vmprof
 * profiles are converted as a stream, so only disk bounds them; a 24-hour big_memory run is 16.9 GB.
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 32 * 1024 ** 3;

const here = fileURLToPath(new URL('.', import.meta.url));
// Both src/ (tests) and dist/ (built) sit one level below apps/server.
export const DEFAULT_WEB_ROOT = resolve(here, '../../web/dist');
export const DEFAULT_DEMO_DIR = resolve(here, '../demo');

export async function createServer(options: ServerOptions = {}): Promise<ProfServer> {
  const dataDir = resolve(options.dataDir ?? './prof-data');
  const app = Fastify({
    logger: options.logger ?? false,
    routerOptions: {
      ignoreTrailingSlash: true, // vmprof clients mix `/freeze/` and `/add`
      ignoreDuplicateSlashes: true, // `//submit/` (the vmprof-viewer client's URL) and `/api/jitlog//`
      maxParamLength: 16_384, // any id a request line can hold (16 KiB of headers) gets 400 bad-id, not a 404 of no route
    },
    bodyLimit: 1024 * 1024,
    // The @prof/api schemas carry annotations for the validation-error mapper (contract.ts).
    ajv: { customOptions: { keywords: CONTRACT_KEYWORDS } },
    forceCloseConnections: true,
    rewriteUrl: (request) => apiUrlFromQueryBase(request.method, request.url ?? '/'),
  });
  app.setSerializerCompiler(compileSerializer);
  // Start-up repair logs what it re-indexed from the documents and what it moved to quarantine.
  const store = await openConfiguredStore({
    dir: dataDir,
    index: options.index,
    blobs: options.blobs,
    graceMs: options.graceMs,
    uploadLeaseMs: options.uploadLeaseMs,
    log: app.log,
  });
  const shared = store instanceof SharedProfileStore;
  const maxInflatedBytes = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const cache = new DecodedCache(
    new BytesCache(store, options.bytesCacheBytes ?? 256 * 1024 ** 2, STORED_MAX_INFLATED_BYTES),
    options.cacheBytes ?? 256 * 1024 ** 2,
    Math.max(maxInflatedBytes, STORED_MAX_INFLATED_BYTES),
  );
  const pool = new WorkPool({ threads: options.maxConcurrentIngest, maxQueue: options.maxWaitingIngest });
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  // Summary builds' scratch files left by a process that died mid-build.
  const scratchDir = join(dataDir, 'scratch');
  await rm(scratchDir, { recursive: true, force: true });
  await mkdir(scratchDir, { recursive: true });
  const summaries = new SummariesCache(store, pool, app.log, {
    maxInflatedBytes: Math.max(maxInflatedBytes, STORED_MAX_INFLATED_BYTES),
    scratchDir,
    checkDocument: (id) => checkStoredDocument(store, cache, id),
    fallbackMaxSamples: options.fallbackMaxSamples,
  });
  const uploads = new UploadQueue(
    join(dataDir, 'incoming'),
    store,
    pool,
    { maxInflatedBytes, maxRawBytes: maxUploadBytes },
    app.log,
    (id, summary) => (summary ? summaries.adopt(id, summary) : summaries.stored(id)),
    store instanceof SharedProfileStore ? store.uploads : null,
    scratchDir,
  );
  const ctx: AppContext = {
    store,
    cache,
    summaries,
    quiet: new QuietTime(QUIET_MS),
    uploads,
    token: options.token || null,
    dataDir,
    pool,
    runtimeIds: new RuntimeIds(
      await runtimeSecret({ secret: options.runtimeSecret, token: options.token || null, dataDir }),
    ),
    maxUploadBytes,
    maxInflatedBytes,
    anonymousSubmit: options.anonymousSubmit ?? false,
    defaultProject: options.defaultProject || null,
    shared: shared && options.index !== undefined,
  };

  app.setErrorHandler((error, request, reply) =>
    handleError(validationError(error as FastifyError, request) ?? error, request, reply),
  );
  const routes: ProfServer['routes'] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, config: route.config ?? {} });
  });
  // Before any route is registered: the hook adds itself to each write route as it is declared.
  registerTokenHook(app, ctx);
  const bodyIdleMs = options.bodyIdleTimeoutMs ?? 30_000;
  app.addHook('onRequest', async (request, reply) => {
    // A read is waited for until its answer has gone ('close': sent, or the client went away).
    if (request.method === 'GET' || request.method === 'HEAD') reply.raw.once('close', ctx.quiet.begin());
    else {
      ctx.quiet.activity();
      armBodyTimeout(request.raw, bodyIdleMs);
    }
  });
  const health = new HealthProbe(dataDir, store);
  await health.refresh();
  // Before the routes: @fastify/swagger collects each route's schema as it is registered.
  await registerContract(app);
  registerHealth(app, ctx, health);
  registerMetrics(app, { store, cache, pool });
  registerReady(app, store);
  registerReadApi(app, ctx);
  // From the summaries when the profile has them (with the CPU extras), else from the decoded document.
  const cpu = new SummariesCpuSource((id) => summaries.get(id), new DecodedCpuSource(cache));
  registerCpuApi(app, ctx, (id) => cpu.open(id));
  registerCompareApi(app, ctx, new CompareSource((id) => summaries.get(id), cache));
  await app.register(async (scope) => registerUploads(scope, ctx));
  await registerWeb(app, options.webRoot === undefined ? DEFAULT_WEB_ROOT : options.webRoot);

  await uploads.start();
  // Tells `prof-server reindex` that this data directory is in use (it must not swap the index under us).
  const pidFile = join(dataDir, 'server.pid');
  await writeFile(pidFile, `${process.pid}\n`);
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
    routes,
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
      await uploads.close();
      await summaries.close();
      await pool.close();
      await store.close();
      await unlink(pidFile).catch(() => {});
    },
  };
}

/** Documents up to this size are verified whole before their summary answers for them: inflating costs what the
 * document holds, and long repetitive runs compress 100 times (a 5.6 MB ×64 big_memory inflates to 0.5 GB). */
const VERIFY_WHOLE_BYTES = 1024 ** 2;
/**
 * No request for this long, and work no request waits for may run a step (a zoom rehearsal): a
 * benchmark's back-to-back queries leave gaps of 1-2 ms, a browser is quiet once a view is drawn.
 */
const QUIET_MS = 50;

/**
 * What a view that decoded the document would have found wrong with it, at a cost that does not grow
 * with the profile: gone (false), cut short (its size differs from the one stored), or, for documents
 * up to VERIFY_WHOLE_BYTES, damaged anywhere (inflated once per process by the bytes cache).
 */
async function checkStoredDocument(store: CompositeProfileStore, cache: DecodedCache, id: string): Promise<boolean> {
  const row = await store.get(id);
  if (!row) return false;
  const stat = await store.blobs.stat(id);
  if (!stat) return false;
  if (stat.sizeBytes !== row.sizeBytes)
    throw new HttpError(
      500,
      'stored-corrupt',
      `the stored document of profile ${id} is damaged (${stat.sizeBytes} bytes where ${row.sizeBytes} were stored); restore profiles/${id}.msgpack.gz from a backup`,
    );
  if (row.sizeBytes <= VERIFY_WHOLE_BYTES) await cache.bytes.get(id);
  return true;
}
