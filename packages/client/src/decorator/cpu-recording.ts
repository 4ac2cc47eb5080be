import { console as v8Console, Session } from 'node:inspector';

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
  /** Stops and returns the profile; never throws (null when the inspector refused). */
  stop(): V8CpuProfile | null;
}

/**
 * How long the sampler keeps running after the last recording stops, so that a function called
 * again soon does not pay V8's profiler start again (it logs every compiled function: 25-125 ms on
 * a warm process here, more than the sampling itself costs a 150 ms call).
 */
export const PROFILER_LINGER_MS = 2000;

// V8's own console (the global one may be replaced by the program or a test runner, and a
// replacement's profile() is a no-op).
const consoleProfile = typeof v8Console?.profile === 'function' ? v8Console.profile.bind(v8Console) : null;
const consoleProfileEnd = typeof v8Console?.profileEnd === 'function' ? v8Console.profileEnd.bind(v8Console) : null;

/**
 * One inspector session per sampling interval, whose V8 profiler records each call as a titled
 * profile of its own (`console.profile(title)`): concurrent calls get separate profiles, a start
 * costs 0.1 ms once the sampler runs, and the finished profile arrives synchronously (the
 * in-process inspector dispatches on the calling thread), so a sync function's profile ends exactly
 * when it returns. Between calls a short-lived keeper profile holds the sampler up for
 * `PROFILER_LINGER_MS`; it keeps only its own few samples, so nothing grows over a long run.
 */
class ProfilerHost {
  private session: Session | null = null;
  private readonly finished = new Map<string, V8CpuProfile>();
  private active = 0;
  private keeper: string | null = null;
  private keeperTimer: NodeJS.Timeout | null = null;
  private seq = 0;

  constructor(private readonly intervalUs: number) {}

  private open(): Session | null {
    if (this.session) return this.session;
    const session = new Session();
    session.connect();
    let failed = false;
    const post = (method: string, params?: object): void =>
      session.post(method, params ?? {}, (err) => {
        if (err) failed = true;
      });
    post('Profiler.enable');
    post('Profiler.setSamplingInterval', { interval: this.intervalUs });
    if (failed) {
      session.disconnect();
      return null;
    }
    session.on('Profiler.consoleProfileFinished', (message) => {
      const params = (message as { params?: { title?: string; profile?: V8CpuProfile } }).params;
      if (params?.title?.startsWith('prof:') && params.profile) this.finished.set(params.title, params.profile);
    });
    return (this.session = session);
  }

  start(): CpuRecording | null {
    if (!consoleProfile || !consoleProfileEnd || !this.open()) return null;
    const title = `prof:${process.pid}:${this.intervalUs}:${++this.seq}`;
    consoleProfile(title);
    this.active++;
    this.dropKeeper(); // after our own start, so the sampler never stops in between
    return {
      stop: () => {
        try {
          this.active--;
          if (this.active === 0) this.startKeeper();
          consoleProfileEnd(title);
          const profile = this.finished.get(title) ?? null;
          this.finished.delete(title);
          return profile;
        } catch {
          return null;
        }
      },
    };
  }

  private startKeeper(): void {
    const title = `prof:${process.pid}:${this.intervalUs}:keeper:${++this.seq}`;
    consoleProfile!(title);
    this.keeper = title;
    this.keeperTimer = setTimeout(() => this.dropKeeper(), PROFILER_LINGER_MS);
    this.keeperTimer.unref();
  }

  private dropKeeper(): void {
    if (this.keeperTimer) clearTimeout(this.keeperTimer);
    this.keeperTimer = null;
    if (this.keeper === null) return;
    const title = this.keeper;
    this.keeper = null;
    consoleProfileEnd!(title);
    this.finished.delete(title);
  }
}

const hosts = new Map<number, ProfilerHost>();

/**
 * Starts recording the calling thread's CPU profile at `samplingIntervalUs`; null when the
 * inspector is unavailable (profiling is then skipped, the program runs as is).
 */
export function startCpuRecording(samplingIntervalUs: number): CpuRecording | null {
  const interval = Math.max(1, Math.round(samplingIntervalUs));
  let host = hosts.get(interval);
  if (!host) hosts.set(interval, (host = new ProfilerHost(interval)));
  try {
    return host.start();
  } catch {
    return null;
  }
}
