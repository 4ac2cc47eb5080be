import { AsyncLocalStorage } from 'node:async_hooks';
import { disabledByEnv, resolveProject, resolveServer, resolveSpoolDir, resolveToken } from '../config';
import { startCpuRecording, type CpuRecording } from './cpu-recording';
import { deliver, setExitGrace, type DeliveryOutcome } from './delivery';
import { MemorySampler, readMemoryHere } from './memory-sampler';

export interface ProfileOptions {
  /** Prof server base URL. Default: `PROF_SERVER`, else `http://localhost:8080`. */
  server?: string;
  /** Project the profile is filed under. Default: `PROF_PROJECT`. */
  project?: string;
  /** Name of the profile. Default: the function's name (`Class.method` for methods). */
  name?: string;
  /** Extra tags, e.g. `{ env: 'prod' }`. */
  tags?: Record<string, string>;
  /** CPU sampling interval in µs. Default 1000 (V8's and `node --cpu-prof`'s default). */
  samplingIntervalUs?: number;
  /** Record memory (RSS per sample, main-thread heap). Default true. */
  memory?: boolean;
  /** Memory sampling interval in ms. Default 10. */
  memoryIntervalMs?: number;
  /** Bearer token for the server. Default: `PROF_TOKEN`. */
  token?: string;
  /** False records nothing (the function runs as is). `PROF_DISABLE=1` turns profiling off regardless. */
  enabled?: boolean;
  /** Where unsendable profiles go. Default: `PROF_SPOOL`, else `~/.prof/spool`. */
  spoolDir?: string;
  /** Deadline of one upload in ms before it is spooled instead. Default 10000. */
  uploadTimeoutMs?: number;
  /** How long an exiting process waits for unfinished uploads before spooling them. Default 3000 (process-wide). */
  exitTimeoutMs?: number;
  /** At most this many calls are recorded at the same time; further concurrent calls run unrecorded. Default 4. */
  maxConcurrent?: number;
  /** No stderr line when a profile is spooled or lost. */
  quiet?: boolean;
  /** Told what became of each profile (uploaded with its URL, spooled, or lost). */
  onDelivered?: (outcome: DeliveryOutcome) => void;
}

interface ActiveCall {
  finished: boolean;
}

const DEFAULT_INTERVAL_US = 1000;
export const DEFAULT_MEMORY_INTERVAL_MS = 10;
const DEFAULT_UPLOAD_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONCURRENT = 4;

/** The call being recorded in the current (async) context: an inner profiled call records nothing. */
const currentCall = new AsyncLocalStorage<ActiveCall>();
const samplers = new Map<number, MemorySampler>();
let recording = 0;

/** The shared sampler of an interval (exported for tests that must wait for its readings). */
export function samplerFor(intervalMs: number): MemorySampler {
  let s = samplers.get(intervalMs);
  if (!s) samplers.set(intervalMs, (s = new MemorySampler(intervalMs)));
  return s;
}

type AnyFunction = (this: any, ...args: any[]) => any;

/**
 * Wraps `fn` so that each top-level call is profiled and uploaded in the background. A sync
 * function stays sync; `this`, arguments, results and exceptions pass through unchanged.
 */
function wrapFunction<F extends AnyFunction>(fn: F, options: ProfileOptions, nameOf: (self: unknown) => string): F {
  // The sampler worker takes tens of ms to boot (hundreds on a loaded machine): boot it now, so the
  // first call is measured from its start and not only at its two ends.
  if (options.memory !== false && options.enabled !== false && !disabledByEnv()) {
    samplerFor(options.memoryIntervalMs ?? DEFAULT_MEMORY_INTERVAL_MS).warmUp();
  }
  const wrapped = function (this: ThisParameterType<F>, ...args: Parameters<F>): ReturnType<F> {
    if (!shouldRecord(options)) return fn.apply(this, args);
    const outer = currentCall.getStore();
    if (outer && !outer.finished) return fn.apply(this, args);
    const call = begin(options);
    if (!call) return fn.apply(this, args);
    const state: ActiveCall = { finished: false };
    let result: ReturnType<F>;
    try {
      result = currentCall.run(state, () => fn.apply(this, args));
    } catch (e) {
      state.finished = true;
      finish(call, options, nameOf(this));
      throw e;
    }
    // Only native promises are followed: a custom thenable may be lazy (query builders) and is
    // returned untouched, its profile ending when the function returns.
    if ((result as unknown) instanceof Promise) {
      return (result as Promise<unknown>).then(
        (value: unknown) => {
          state.finished = true;
          finish(call, options, nameOf(this));
          return value;
        },
        (error: unknown) => {
          state.finished = true;
          finish(call, options, nameOf(this));
          throw error;
        },
      ) as ReturnType<F>;
    }
    state.finished = true;
    finish(call, options, nameOf(this));
    return result;
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
  return wrapped as F;
}

function shouldRecord(options: ProfileOptions): boolean {
  return options.enabled !== false && !disabledByEnv() && recording < (options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
}

interface CallInProgress {
  cpu: CpuRecording;
  memory: { sampler: MemorySampler; rangeId: number; start: ReturnType<typeof readMemoryHere> } | null;
}

function begin(options: ProfileOptions): CallInProgress | null {
  try {
    const cpu = startCpuRecording(options.samplingIntervalUs ?? DEFAULT_INTERVAL_US);
    if (!cpu) return null;
    // Memory range opens after the CPU profile started and closes before it stops, so every
    // reading falls inside the profile's span.
    let memory: CallInProgress['memory'] = null;
    if (options.memory !== false) {
      const sampler = samplerFor(options.memoryIntervalMs ?? DEFAULT_MEMORY_INTERVAL_MS);
      memory = { sampler, rangeId: sampler.acquire(), start: readMemoryHere() };
    }
    recording++;
    return { cpu, memory };
  } catch {
    return null;
  }
}

/** Stops the recording now and hands it to the background; never throws into the program. */
function finish(call: CallInProgress, options: ProfileOptions, name: string): void {
  try {
    recording--;
    const end = call.memory ? readMemoryHere() : null;
    const profile = call.cpu.stop();
    call.memory?.sampler.release();
    if (!profile) {
      if (call.memory) call.memory.sampler.forget(call.memory.rangeId);
      return;
    }
    if (options.exitTimeoutMs !== undefined) setExitGrace(options.exitTimeoutMs);
    deliver(
      {
        meta: { project: resolveProject(options.project), name: options.name ?? name, tags: { ...options.tags } },
        server: resolveServer(options.server),
        token: resolveToken(options.token),
        spoolDir: resolveSpoolDir(options.spoolDir),
        uploadTimeoutMs: options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS,
        quiet: options.quiet ?? false,
        onDelivered: options.onDelivered,
      },
      {
        cpu: profile,
        memory: call.memory && end ? { ...call.memory, end } : null,
      },
    );
  } catch {
    // profiling is best effort; the program's own result matters more
  }
}

type MethodDecorator<This, Args extends any[], Return> = (
  method: (this: This, ...args: Args) => Return,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
) => (this: This, ...args: Args) => Return;

function isMethodContext(x: unknown): x is ClassMethodDecoratorContext {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'method';
}

function methodDecorator(options: ProfileOptions): MethodDecorator<any, any[], any> {
  return (method, context) => {
    const methodName = String(context.name);
    const nameOf = (self: unknown): string => {
      // Static methods run with the class as `this`; instance methods with an instance.
      const owner =
        typeof self === 'function'
          ? self.name
          : (self as { constructor?: { name?: string } } | null)?.constructor?.name;
      return owner ? `${owner}.${methodName}` : methodName;
    };
    return wrapFunction(method, options, nameOf);
  };
}

/**
 * `profile(fn, options?)` returns a profiled version of `fn`; `@profile(options?)` (or bare
 * `@profile`) decorates a class method (TypeScript 5 standard decorators).
 */
export function profile<F extends AnyFunction>(fn: F, options?: ProfileOptions): F;
export function profile<This, Args extends any[], Return>(
  method: (this: This, ...args: Args) => Return,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
): (this: This, ...args: Args) => Return;
export function profile(options?: ProfileOptions): MethodDecorator<any, any[], any>;
export function profile(a?: AnyFunction | ProfileOptions, b?: ProfileOptions | ClassMethodDecoratorContext): unknown {
  if (typeof a === 'function') {
    if (isMethodContext(b)) return methodDecorator({})(a, b as ClassMethodDecoratorContext<any, AnyFunction>);
    const options = (b as ProfileOptions | undefined) ?? {};
    return wrapFunction(a, options, () => a.name || 'anonymous');
  }
  return methodDecorator(a ?? {});
}
