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
  const rule = timeRule(t, t.rawTimes && n > 0 ? t.rawTimes[0] : Number.NaN);
  rule.fill(time, 0, t.rawTimes);
  return { time, ...rule.result() };
}

/**
 * How sample times are made, one chunk at a time in order: `sampleTimes` for a column that is
 * too long to hold (the streaming converter). `firstRaw` is the first v7 stamp (NaN if none).
 */
export interface TimeRule {
  /** Writes the times of rows `start`… into `out`, from their raw stamps (v7) or their index. */
  fill(out: Float64Array, start: number, raw: Float64Array | null): void;
  result(): Omit<TimeColumn, 'time'>;
}

export function timeRule(t: Omit<TimeInputs, 'rawTimes'> & { rawTimes: unknown }, firstRaw: number): TimeRule {
  const n = t.sampleCount;
  if (t.rawTimes) {
    const origin = t.startOffsetSec ?? (n > 0 && Number.isFinite(firstRaw) ? firstRaw : 0);
    let invalidStamps = 0;
    let reorderedStamps = 0;
    let previous = -Infinity;
    return {
      fill(out, start, raw) {
        if (!raw) throw new Error('v7 times need their raw stamps');
        for (let j = 0; j < out.length; j++) {
          const i = start + j;
          const ms = (raw[j] - origin) * 1000;
          let v: number;
          if (!Number.isFinite(ms)) {
            invalidStamps++;
            v = i > 0 ? previous : 0;
          } else if (ms < previous) {
            // The column must not decrease (every view bisects it); a monotonic clock never goes back.
            reorderedStamps++;
            v = previous;
          } else v = ms;
          out[j] = v;
          previous = v;
        }
      },
      result: () => ({ invalidStamps, reorderedStamps, timeEstimated: false, timeSource: 'recorded' }),
    };
  }
  if (t.startTimeMs !== null && t.endTimeMs !== null && t.endTimeMs > t.startTimeMs && n > 0) {
    const step = (t.endTimeMs - t.startTimeMs) / n;
    return {
      fill(out, start) {
        for (let j = 0; j < out.length; j++) out[j] = (start + j + 0.5) * step;
      },
      result: () => ({ invalidStamps: 0, timeEstimated: true, timeSource: 'spread-start-end' }),
    };
  }
  const periodUs = t.realTime ? t.periodUs : Math.max(t.periodUs, CPU_TIMER_FLOOR_US);
  const stepMs = (periodUs > 0 ? periodUs : CPU_TIMER_FLOOR_US) / 1000;
  return {
    fill(out, start) {
      for (let j = 0; j < out.length; j++) out[j] = (start + j) * stepMs;
    },
    result: () => ({ invalidStamps: 0, timeEstimated: true, timeSource: 'period' }),
  };
}
