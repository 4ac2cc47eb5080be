import { WORKER_SOURCE } from '../decorator/memory-sampler';

/** What the preload writes beside the CPU profile of each Node process of a `prof run`. */
export interface RunMemoryFile {
  pid: number;
  argv: string[];
  /** Epoch ms of monotonic 0 in that process: maps the CPU profile's µs and `time` to wall clock. */
  epochOfMonotonicZero: number;
  memory: boolean;
  /** Monotonic ms. */
  time: number[];
  rss: number[];
  heap: number[];
}

/**
 * CommonJS loaded with `--require` into every Node process of a `prof run` (through NODE_OPTIONS,
 * which does not allow `--cpu-prof`): it records the CPU profile through node:inspector and memory
 * from a worker, as the decorator does, and at exit writes `cpu-<pid>.cpuprofile` and
 * `mem-<pid>.json` synchronously (the in-process inspector answers synchronously).
 */
export function preloadSource(): string {
  return `'use strict';
const { Worker, MessageChannel, receiveMessageOnPort, isMainThread } = require('node:worker_threads');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const dir = process.env.PROF_RUN_DIR;
if (isMainThread && dir) {
  const mono = () => Number(process.hrtime.bigint()) / 1e6;
  const m0 = mono();
  const epochOfMonotonicZero = performance.timeOrigin + performance.now() - m0;
  const intervalMs = Number(process.env.PROF_RUN_MEMORY_INTERVAL_MS) || 10;
  const memory = process.env.PROF_RUN_MEMORY !== '0';
  const batches = [];
  let session = null;
  try {
    const { Session } = require('node:inspector');
    session = new Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: Number(process.env.PROF_RUN_INTERVAL_US) || 1000 });
    session.post('Profiler.start');
  } catch { session = null; }
  const here = () => { const m = process.memoryUsage(); batches.push({ time: [mono()], rss: [m.rss], heap: [m.heapUsed] }); };
  let port = null;
  if (memory) {
    here();
    try {
      const ch = new MessageChannel();
      const w = new Worker(${JSON.stringify(WORKER_SOURCE)}, { eval: true, workerData: { port: ch.port2, intervalMs, heap: true }, transferList: [ch.port2], stdout: true, stderr: true });
      w.unref();
      w.on('error', () => {});
      ch.port1.on('message', (m) => { if (m.type === 'samples') batches.push(m); });
      ch.port1.unref();
      ch.port1.postMessage({ type: 'start' });
      port = ch.port1;
    } catch {}
  }
  process.on('exit', () => {
    try {
      let profile = null;
      if (session) session.post('Profiler.stop', (err, r) => { if (!err && r) profile = r.profile; });
      if (profile) writeFileSync(join(dir, 'cpu-' + process.pid + '.cpuprofile'), JSON.stringify(profile));
      if (port) for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) if (r.message.type === 'samples') batches.push(r.message);
      if (memory) here();
      const time = [], rss = [], heap = [];
      for (const b of batches) for (let i = 0; i < b.time.length; i++) { time.push(b.time[i]); rss.push(b.rss[i]); heap.push(b.heap[i]); }
      writeFileSync(join(dir, 'mem-' + process.pid + '.json'), JSON.stringify({ pid: process.pid, argv: process.argv, epochOfMonotonicZero, memory, time, rss, heap }));
    } catch {}
  });
}
`;
}
