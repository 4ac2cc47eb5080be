import { performance } from 'node:perf_hooks';

/**
 * One clock for CPU samples and memory samples. V8 stamps CPU profiles with CLOCK_MONOTONIC in µs;
 * `process.hrtime` reads the same clock in every thread, so the memory worker records hrtime and
 * everything is mapped to wall clock here, in one place, with one offset.
 */
export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Epoch ms of monotonic ms 0, fixed once per process so every mapping uses the same offset. */
const epochOfMonotonicZero = (() => {
  // performance.now() is hrtime minus the time origin's hrtime; timeOrigin is epoch ms.
  const mono = monotonicNowMs();
  const rel = performance.now();
  return performance.timeOrigin + rel - mono;
})();

export function monotonicToEpochMs(monotonicMs: number): number {
  return epochOfMonotonicZero + monotonicMs;
}
