import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { SharedProfileStore, type CompositeProfileStore } from '@prof/store';

/**
 * `/ready`: 200 when the index and the blob store answer, 503 naming the one that does not
 * (a load balancer takes the instance out until then). `/health` stays liveness only.
 */
export function registerReady(app: FastifyInstance, store: CompositeProfileStore): void {
  app.get('/ready', async () => {
    if (store instanceof SharedProfileStore) await store.ready();
    else await store.stats();
    return { status: 'ready' };
  });
}

/** Sweeps what failed uploads left in the shared store every grace period; returns the stop function. */
export function startSweeps(store: SharedProfileStore, log: FastifyBaseLogger): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(
    () => {
      running ??= store
        .sweep()
        .then(
          (r) =>
            void (
              r &&
              (r.orphans || r.incomplete || r.orphanSummaries) &&
              log.info(r, 'swept blobs of failed uploads')
            ),
          (err) => log.warn({ err }, 'sweep failed'),
        )
        .finally(() => (running = null));
    },
    Math.max(1000, store.graceMs),
  );
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
