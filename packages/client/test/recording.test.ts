import { describe, expect, it } from 'vitest';
import { startCpuRecording } from '../src/decorator/cpu-recording';
import { MemorySampler, readMemoryHere } from '../src/decorator/memory-sampler';
import { monotonicNowMs, monotonicToEpochMs } from '../src/decorator/clock';
import { cpuSpent, spinUntil } from './helpers';

/**
 * Busy for `ms` of this process's CPU time (not wall time): V8 takes a CPU sample per interval of
 * the thread's running time, so the samples asserted below come however loaded the machine is.
 */
function spin(ms: number): number {
  const spent = cpuSpent(ms);
  let x = 0;
  while (!spent()) for (let i = 0; i < 1000; i++) x += Math.sqrt(x + 1);
  return x;
}

describe('CPU recording through node:inspector', () => {
  it('returns a V8 profile whose clock is the one the memory sampler uses', () => {
    const before = monotonicNowMs();
    const rec = startCpuRecording(500)!;
    spin(300);
    const profile = rec.stop()!;
    const after = monotonicNowMs();
    expect(profile.samples!.length).toBeGreaterThan(10);
    // V8 stamps with CLOCK_MONOTONIC µs: the span must sit inside our own readings of that clock.
    expect(profile.startTime / 1000).toBeGreaterThanOrEqual(before - 1);
    expect(profile.endTime / 1000).toBeLessThanOrEqual(after + 1);
    expect(profile.nodes.some((n) => n.callFrame.functionName === 'spin')).toBe(true);
  });

  it('keeps concurrent recordings apart', () => {
    const a = startCpuRecording(1000)!;
    spin(100);
    const b = startCpuRecording(1000)!;
    spin(100);
    const pa = a.stop()!;
    const pb = b.stop()!;
    expect(pb.startTime).toBeGreaterThan(pa.startTime);
    expect(pa.samples!.length).toBeGreaterThan(0);
    expect(pb.samples!.length).toBeGreaterThan(0);
  });

  it('maps monotonic time to the wall clock', () => {
    // Bracketed by two wall-clock readings, so a preemption between the calls cannot fail it; the
    // slack covers Date.now()'s whole-ms truncation and the clock's slewing since calibration.
    const before = Date.now();
    const mapped = monotonicToEpochMs(monotonicNowMs());
    const after = Date.now();
    expect(mapped).toBeGreaterThanOrEqual(before - 5);
    expect(mapped).toBeLessThanOrEqual(after + 5);
  });
});

describe('memory sampler worker', () => {
  it('measures a main thread that never yields, inside the CPU profile span', () => {
    const sampler = new MemorySampler(5);
    const rec = startCpuRecording(1000)!;
    const range = sampler.acquire();
    const start = readMemoryHere();
    const hold: Buffer[] = [];
    // The worker boots while main spins; then main allocates and never yields until the worker has
    // provably taken readings after the allocation: nothing here depends on the scheduler's luck.
    spinUntil(() => sampler.readingsTaken() >= 2, 'the sampler worker to start');
    for (let i = 0; i < 64; i++) hold.push(Buffer.alloc(1 << 20, 1));
    const afterAllocation = sampler.readingsTaken();
    spinUntil(() => sampler.readingsTaken() >= afterAllocation + 6, 'six readings after the allocation');
    const end = readMemoryHere();
    const profile = rec.stop()!;
    sampler.release();
    const series = sampler.seriesOf(range, start, end);

    expect(series.time.length).toBeGreaterThan(8); // the worker sampled while main was busy
    const from = profile.startTime / 1000;
    const to = profile.endTime / 1000;
    const inside = Array.from(series.time).filter((t) => t >= from && t <= to);
    expect(inside.length).toBe(series.time.length);
    // Start and end are this thread's own readings: the growth must show in the worker's readings.
    const workerRss = Array.from(series.rss).slice(1, -1);
    expect(Math.max(...workerRss) - series.rss[0]).toBeGreaterThan(50 * (1 << 20));
    expect(hold.length).toBe(64);
  });

  it("reads the main isolate's heap through the inspector while main never yields", () => {
    const sampler = new MemorySampler(5);
    const range = sampler.acquire();
    const start = readMemoryHere();
    let heapReadings = 0;
    // The heap arrives by inspector interrupt, after its reading: poll what has arrived so far.
    spinUntil(() => {
      const s = sampler.collect(start.time, Number.POSITIVE_INFINITY);
      heapReadings = Array.from(s.heap).filter((h) => Number.isFinite(h)).length;
      return heapReadings >= 4;
    }, 'four heap readings');
    const end = readMemoryHere();
    sampler.release();
    const series = sampler.seriesOf(range, start, end);
    expect(Array.from(series.heap).filter((h) => Number.isFinite(h)).length).toBeGreaterThanOrEqual(heapReadings);
  });
});
