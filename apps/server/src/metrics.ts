import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isProfFormatError } from '@prof/format';
import { isStoreUnavailable, type ProfileStore } from '@prof/store';
import { HttpError } from './http-error';
import type { DecodedCache } from './decoded-cache';
import type { WorkPool } from './work-pool';

/** Routes that take uploads, whichever protocol (the Prometheus label `protocol`). */
const UPLOAD_ROUTES: Record<string, string> = {
  'POST /api/profiles': 'prof',
  'POST /api/runtime/upload/cpu/:rid/add': 'vmprof',
  'POST /api/profile': 'vmprof-legacy',
  'POST /api/log': 'vmprof-legacy',
  'POST /submit': 'seed',
};

/** The stable code of an error answer (`{error: {code}}`), as `handleError` renders it. */
function errorCode(error: unknown): string {
  if (error instanceof HttpError || isProfFormatError(error) || isStoreUnavailable(error)) return error.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (error as { statusCode?: number }).statusCode !== undefined ? code : 'internal';
}

/**
 * Prometheus metrics of one server, in a registry of its own (several servers may share a process in
 * tests): requests and their latency by route, uploads and their bytes by protocol, errors by code,
 * cache hits, stored profiles, and the process's defaults.
 */
export function registerMetrics(
  app: FastifyInstance,
  deps: { store: ProfileStore; cache: DecodedCache; pool?: WorkPool; path?: string },
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const latency = new Histogram({
    name: 'prof_http_request_duration_seconds',
    help: 'Time to answer a request, by route (queries, documents, uploads with their conversion)',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const conversions = new Histogram({
    name: 'prof_conversion_duration_seconds',
    help: 'Time an upload spends on the worker pool (queue wait, inflate, decode or convert, check), by kind (prof: POST /api/profiles of any format; vmprof: the runtime protocol; vmprof-viewer; vmprof-legacy) and outcome (ok, or the error code)',
    labelNames: ['kind', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  if (deps.pool) deps.pool.onConversion = (kind, seconds, outcome) => conversions.observe({ kind, outcome }, seconds);
  const uploads = new Counter({
    name: 'prof_uploads_total',
    help: 'Uploads answered, by protocol and outcome (ok, or the error code)',
    labelNames: ['protocol', 'outcome'],
    registers: [registry],
  });
  const uploadBytes = new Counter({
    name: 'prof_upload_bytes_total',
    help: 'Request bytes of successful uploads (Content-Length), by protocol',
    labelNames: ['protocol'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'prof_errors_total',
    help: 'Error answers, by code and HTTP status',
    labelNames: ['code', 'status'],
    registers: [registry],
  });
  new Counter({
    name: 'prof_cache_requests_total',
    help: 'Lookups of the in-memory caches (bytes: stored documents; decoded: decoded documents), by result',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      const { bytes, decoded } = deps.cache.stats();
      this.reset();
      this.inc({ cache: 'bytes', result: 'hit' }, bytes.hits);
      this.inc({ cache: 'bytes', result: 'miss' }, bytes.misses);
      this.inc({ cache: 'decoded', result: 'hit' }, decoded.hits);
      this.inc({ cache: 'decoded', result: 'miss' }, decoded.misses);
    },
  });
  new Gauge({
    name: 'prof_cache_bytes',
    help: 'Bytes held by the decoded-document cache',
    registers: [registry],
    collect() {
      this.set(deps.cache.size.bytes);
    },
  });
  new Gauge({
    name: 'prof_profiles',
    help: 'Profiles in the store, and their stored bytes',
    labelNames: ['what'],
    registers: [registry],
    async collect() {
      const stats = await deps.store.stats().catch(() => null);
      if (!stats) return;
      this.set({ what: 'count' }, stats.count);
      this.set({ what: 'bytes' }, stats.totalBytes);
    },
  });

  const failures = new WeakMap<object, string>();
  app.addHook('onError', async (request, _reply, error) => {
    failures.set(request, errorCode(error));
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    latency.observe({ method: request.method, route, status }, reply.elapsedTime / 1000);
    const failure = status >= 400 ? (failures.get(request) ?? (status === 404 ? 'not-found' : 'unknown')) : null;
    if (failure) errors.inc({ code: failure, status });
    const protocol = UPLOAD_ROUTES[`${request.method} ${route}`];
    if (protocol) {
      uploads.inc({ protocol, outcome: failure ?? 'ok' });
      const length = Number(request.headers['content-length']);
      if (!failure && Number.isFinite(length)) uploadBytes.inc({ protocol }, length);
    }
  });
  app.get(deps.path ?? '/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return registry;
}
