import { describe, expect, it } from 'vitest';
import { startCpuRecording } from '../src/decorator/cpu-recording';
import { MemorySampler, readMemoryHere } from '../src/decorator/memory-sampler';
import { monotonicNowMs, monotonicToEpochMs } from '../src/decorator/clock';

function spin(ms: number): number {
  const end = monotonicNowMs() + ms;
  let x = 0;
  while (monotonicNowMs() < end) x += Math.sqrt(x + 1);
  return x;
}

describe('CPU recording through node:inspector', () => {
  it('returns a V8 profile whose clock is the one the memory sampler uses', () => {
    const before = monotonicNowMs();
    const rec = startCpuRecording(500)!;
    spin(60);
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
    spin(30);
    const b = startCpuRecording(1000)!;
    spin(30);
    const pa = a.stop()!;
    const pb = b.stop()!;
    expect(pb.startTime).toBeGreaterThan(pa.startTime);
    expect(pa.samples!.length).toBeGreaterThan(0);
    expect(pb.samples!.length).toBeGreaterThan(0);
  });

  it('maps monotonic time to the wall clock', () => {
    expect(Math.abs(monotonicToEpochMs(monotonicNowMs()) - Date.now())).toBeLessThan(50);
  });
});

describe('memory sampler worker', () => {
  it('measures a main thread that never yields, inside the CPU profile span', async () => {
    const sampler = new MemorySampler(5);
    const warm = sampler.acquire(); // the first worker start is slow: let it come up
    await new Promise((r) => setTimeout(r, 300));
    sampler.release();
    sampler.forget(warm);

    const rec = startCpuRecording(1000)!;
    const range = sampler.acquire();
    const start = readMemoryHere();
    const hold: Buffer[] = [];
    const t0 = monotonicNowMs();
    while (monotonicNowMs() - t0 < 150) hold.push(Buffer.alloc(1 << 20, 1)); // busy and growing, no yield
    const end = readMemoryHere();
    const profile = rec.stop()!;
    sampler.release();
    const series = sampler.seriesOf(range, start, end);

    expect(series.time.length).toBeGreaterThan(5); // the worker sampled while main was busy
    const from = profile.startTime / 1000;
    const to = profile.endTime / 1000;
    const inside = Array.from(series.time).filter((t) => t >= from && t <= to);
    expect(inside.length).toBe(series.time.length);
    expect(Math.max(...series.rss) - series.rss[0]).toBeGreaterThan(50 * (1 << 20));
    // The main isolate's heap, read by the worker through the inspector while main never yielded.
    const heapInside = Array.from(series.heap)
      .slice(1, -1)
      .filter((h) => Number.isFinite(h));
    expect(heapInside.length).toBeGreaterThan(3);
    expect(hold.length).toBeGreaterThan(50);
  });
});
