/**
 * Loaded with `--import` into every Node process of a `prof run` (through NODE_OPTIONS, which does
 * not allow `--cpu-prof`). It records the process as the decorator records a call: a V8 CPU profile
 * through node:inspector, and memory from the sampler worker, on one clock. At exit, and on a
 * SIGINT/SIGTERM that nothing else handles, it writes `cpu-<pid>.cpuprofile` and `mem-<pid>.json`
 * synchronously (the in-process inspector answers synchronously) for `prof run` to upload.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { monotonicToEpochMs } from '../decorator/clock';
import { startCpuRecording } from '../decorator/cpu-recording';
import { MemorySampler, readMemoryHere } from '../decorator/memory-sampler';
import { RUN_ENV, type RunMemoryFile } from './run-files';

const dir = process.env[RUN_ENV.dir];
if (isMainThread && dir) record(dir);

function record(dir: string): void {
  const cpu = startCpuRecording(Number(process.env[RUN_ENV.intervalUs]) || 1000);
  const memoryOn = process.env[RUN_ENV.memory] !== '0';
  const sampler = memoryOn ? new MemorySampler(Number(process.env[RUN_ENV.memoryIntervalMs]) || 10) : null;
  const start = readMemoryHere();
  const rangeId = sampler?.acquire() ?? 0;
  let written = false;

  const write = (): void => {
    if (written) return;
    written = true;
    try {
      const end = readMemoryHere();
      const profile = cpu?.stop();
      if (!profile) return;
      writeFileSync(join(dir, `cpu-${process.pid}.cpuprofile`), JSON.stringify(profile));
      const series = sampler?.seriesOf(rangeId, start, end) ?? null;
      const file: RunMemoryFile = {
        pid: process.pid,
        argv: process.argv,
        nodeVersion: process.version,
        zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        epochOfMonotonicZero: monotonicToEpochMs(0),
        memory: memoryOn,
        time: series ? Array.from(series.time) : [],
        rss: series ? Array.from(series.rss) : [],
        heap: series ? Array.from(series.heap, (h) => (Number.isNaN(h) ? null : h)) : [],
      };
      writeFileSync(join(dir, `mem-${process.pid}.json`), JSON.stringify(file));
    } catch {
      // a profile is best effort; the program's own exit matters more
    }
  };

  process.on('exit', write);
  // Ctrl-C or a kill ends a long job without 'exit': write the profile, then let the signal do
  // what it would have done. A program with its own handler keeps it, and its own exit path.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      write();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
