import type { SampleTable } from '../schema';

/**
 * Linux clamps ITIMER_PROF to the kernel tick (250 Hz on common kernels): CPU-time profiles asked
 * for 1000 µs got 186–248 samples/s, so below this the requested period overstates the rate.
 */
export const CPU_TIMER_FLOOR_US = 4000;

export interface TimeInputs {
  sampleCount: number;
  /** v7: the writer's CLOCK_MONOTONIC seconds of each sample. */
  rawTimes: Float64Array | null;
  /** v7: meta `start_time_offset` parsed, same clock at start. */
  startOffsetSec: number | null;
  startTimeMs: number | null;
  endTimeMs: number | null;
  periodUs: number;
  /** Mode bit 0x10; null when the file has no mode byte (then the CPU timer was used). */
  realTime: boolean | null;
}

export interface TimeColumn {
  time: Float64Array;
  /** v7 stamps that were not finite numbers (damaged files); each took its predecessor's time. */
  invalidStamps: number;
  /** v7 stamps earlier than their predecessor (damaged files); each took its predecessor's time. */
  reorderedStamps?: number;
  timeEstimated: boolean;
  timeSource: SampleTable['timeSource'];
}

/**
 * The time column, ms since the start (format doc §7.5). Only v7 records times; before that the
 * best estimate of a complete file spreads samples between start and end (index × period would
 * shrink a 258 s run to 159 s because the achieved rate is below 1/period).
 */
export function sampleTimes(t: TimeInputs): TimeColumn {
  const n = t.sampleCount;
  const time = new Float64Array(n);
  if (t.rawTimes) {
    const origin = t.startOffsetSec ?? (n > 0 && Number.isFinite(t.rawTimes[0]) ? t.rawTimes[0] : 0);
    let invalidStamps = 0;
    let reorderedStamps = 0;
    for (let i = 0; i < n; i++) {
      const ms = (t.rawTimes[i] - origin) * 1000;
      const previous = i > 0 ? time[i - 1] : -Infinity;
      if (!Number.isFinite(ms)) {
        invalidStamps++;
        time[i] = i > 0 ? previous : 0;
      } else if (ms < previous) {
        // The column must not decrease (every view bisects it); a monotonic clock never goes back.
        reorderedStamps++;
        time[i] = previous;
      } else time[i] = ms;
    }
    return { time, invalidStamps, reorderedStamps, timeEstimated: false, timeSource: 'recorded' };
  }
  if (t.startTimeMs !== null && t.endTimeMs !== null && t.endTimeMs > t.startTimeMs && n > 0) {
    const step = (t.endTimeMs - t.startTimeMs) / n;
    for (let i = 0; i < n; i++) time[i] = (i + 0.5) * step;
    return { time, invalidStamps: 0, timeEstimated: true, timeSource: 'spread-start-end' };
  }
  const periodUs = t.realTime ? t.periodUs : Math.max(t.periodUs, CPU_TIMER_FLOOR_US);
  const stepMs = (periodUs > 0 ? periodUs : CPU_TIMER_FLOOR_US) / 1000;
  for (let i = 0; i < n; i++) time[i] = i * stepMs;
  return { time, invalidStamps: 0, timeEstimated: true, timeSource: 'period' };
}
