// The event loop's longest stall in this process, and how much of it the main thread spent on the CPU:
// on a loaded machine a wall-clock stall is often the thread waiting for a core, not our code running.
// The main thread bumps a shared counter every 2 ms; a worker watches it every 2 ms and reads the main
// thread's CPU time (/proc/self/task/<pid>/stat, utime + stime, 10 ms ticks) at both ends of each stall.
import { Worker } from 'node:worker_threads';

const WATCHER = `
const { workerData, parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const beat = new Int32Array(workerData.beat);
const cpuMs = () => {
  const f = readFileSync('/proc/self/task/' + workerData.pid + '/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
let last = Atomics.load(beat, 0);
let since = performance.now();
let cpuAt = cpuMs();
let worst = { wallMs: 0, cpuMs: 0 };
let busiest = { wallMs: 0, cpuMs: 0 };
setInterval(() => {
  const now = Atomics.load(beat, 0);
  const t = performance.now();
  if (now !== last) {
    const cpu = cpuMs();
    const stall = { wallMs: t - since, cpuMs: cpu - cpuAt };
    if (stall.wallMs > worst.wallMs) worst = stall;
    if (stall.cpuMs > busiest.cpuMs) busiest = stall;
    last = now;
    since = t;
    cpuAt = cpu;
  }
}, 2);
parentPort.on('message', (m) => {
  if (m === 'read') {
    parentPort.postMessage({ worst, busiest });
    worst = { wallMs: 0, cpuMs: 0 };
    busiest = { wallMs: 0, cpuMs: 0 };
  }
});
`;

/** Starts watching; `read()` gives the longest stall and the stall with the most CPU since the last read. */
export function watchStalls() {
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const timer = setInterval(() => Atomics.add(beat, 0, 1), 2);
  const worker = new Worker(WATCHER, { eval: true, workerData: { beat: beat.buffer, pid: process.pid } });
  return {
    read: () =>
      new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('read');
      }),
    async stop() {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}

/** "longest stall 120 ms (30 ms CPU), most CPU 40 ms in 45 ms" */
export function describeStalls({ worst, busiest }) {
  return (
    `longest loop stall ${worst.wallMs.toFixed(0)} ms (${worst.cpuMs} ms on the CPU), ` +
    `busiest ${busiest.cpuMs} ms CPU in ${busiest.wallMs.toFixed(0)} ms`
  );
}
