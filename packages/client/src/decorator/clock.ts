/**
 * One clock for CPU samples and memory samples. V8 stamps CPU profiles with CLOCK_MONOTONIC in µs;
 * `process.hrtime` reads the same clock in every thread, so the memory worker records hrtime and
 * everything is mapped to wall clock here, in one place, with one offset.
 */
export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Epoch ms of monotonic ms 0, fixed once per process so every mapping uses the same offset. The wall
 * clock is read between two monotonic readings, and the tightest of a few tries is kept: a thread
 * preempted between the readings (a loaded machine) would otherwise shift every mapped time.
 */
const epochOfMonotonicZero = (() => {
  let best = { gap: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 16; i++) {
    const before = monotonicNowMs();
    const wall = Date.now();
    const after = monotonicNowMs();
    // Date.now() truncates to whole ms: its true value lies in [wall, wall + 1).
    if (after - before < best.gap) best = { gap: after - before, offset: wall + 0.5 - (before + after) / 2 };
  }
  return best.offset;
})();

export function monotonicToEpochMs(monotonicMs: number): number {
  return epochOfMonotonicZero + monotonicMs;
}
