import { Session } from 'node:inspector';
import { monotonicNowMs } from './clock';

/** The V8 CPU profile as the inspector returns it (and as `node --cpu-prof` writes it). */
export interface V8CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
    positionTicks?: { line: number; ticks: number }[];
  }[];
  /** Monotonic µs (CLOCK_MONOTONIC, same clock as `monotonicNowMs`). */
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface CpuRecording {
  /** Monotonic ms when recording began. */
  readonly startedAt: number;
  /** Stops and returns the profile; never throws (null when the inspector refused). */
  stop(): V8CpuProfile | null;
}

/**
 * Each recording has its own inspector session: V8 keeps one profiler per session, so concurrent
 * calls get separate profiles. The in-process inspector answers synchronously, which lets a sync
 * function's profile end exactly when it returns.
 */
export function startCpuRecording(samplingIntervalUs: number): CpuRecording | null {
  const session = new Session();
  let failed = false;
  const post = (method: string, params?: object): unknown => {
    let result: unknown;
    session.post(method, params ?? {}, (err, r) => {
      if (err) failed = true;
      result = r;
    });
    return result;
  };
  try {
    session.connect();
    post('Profiler.enable');
    post('Profiler.setSamplingInterval', { interval: Math.max(1, Math.round(samplingIntervalUs)) });
    post('Profiler.start');
  } catch {
    failed = true;
  }
  if (failed) {
    safeDisconnect(session);
    return null;
  }
  const startedAt = monotonicNowMs();
  return {
    startedAt,
    stop() {
      try {
        const r = post('Profiler.stop') as { profile?: V8CpuProfile } | undefined;
        post('Profiler.disable');
        return r?.profile ?? null;
      } catch {
        return null;
      } finally {
        safeDisconnect(session);
      }
    },
  };
}

function safeDisconnect(session: Session): void {
  try {
    session.disconnect();
  } catch {
    // already gone
  }
}
