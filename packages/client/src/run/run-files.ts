/** What `prof run` and its preload agree on: environment variables and the memory file's shape. */
export const RUN_ENV = {
  dir: 'PROF_RUN_DIR',
  intervalUs: 'PROF_RUN_INTERVAL_US',
  memory: 'PROF_RUN_MEMORY',
  memoryIntervalMs: 'PROF_RUN_MEMORY_INTERVAL_MS',
} as const;

/** `mem-<pid>.json`, written by the preload beside `cpu-<pid>.cpuprofile`. */
export interface RunMemoryFile {
  pid: number;
  argv: string[];
  /** `process.version` of that process. */
  nodeVersion: string;
  /** IANA time zone of that process. */
  zone: string;
  /** Epoch ms of monotonic 0 in that process: maps the CPU profile's µs and `time` to wall clock. */
  epochOfMonotonicZero: number;
  memory: boolean;
  /** Monotonic ms, ascending. */
  time: number[];
  /** RSS in bytes at each time. */
  rss: number[];
  /** Main-thread V8 heap used in bytes at each time; null where it could not be read. */
  heap: (number | null)[];
}
