// Shared pieces of the server benchmark: the server as a child process, a keep-alive client that
// times single requests, and the figures' formatting.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { fileURLToPath } from 'node:url';

export const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** `prof-server` on a random loopback port, as users run it (its own process, built code). */
export function startServer(dataDir, extraArgs = []) {
  const proc = spawn(process.execPath, [cli, '--port', '0', '--data', dataDir, '--no-demos', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk;
      const m = /Prof server listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        proc.stdout.off('data', onData);
        resolve({
          url: m[1],
          proc,
          startMs: performance.now() - started,
          /** Peak resident memory so far (VmHWM), MB. */
          peakRssMb: () =>
            Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
          stop: () =>
            new Promise((done) => (proc.exitCode !== null ? done() : (proc.once('exit', done), proc.kill('SIGTERM')))),
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (chunk) => (log += chunk));
    proc.once('exit', (code) => reject(new Error(`prof-server exited with ${code}:\n${log}`)));
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request over a kept-alive connection; resolves to { status, body, ms }. */
export function timed(url, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks),
          ms: Number(process.hrtime.bigint() - t0) / 1e6,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function json(url, options) {
  const r = await timed(url, options);
  const value = JSON.parse(r.body.toString());
  if (r.status >= 300) throw new Error(`${options?.method ?? 'GET'} ${url}: ${r.status} ${r.body}`);
  return value;
}

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Times `n` sequential requests whose URL `makeUrl(i)` gives; p50, p99 and max in ms. */
export async function latency(n, makeUrl) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const r = await timed(makeUrl(i));
    if (r.status !== 200) throw new Error(`${makeUrl(i)}: ${r.status} ${r.body.toString().slice(0, 300)}`);
    ms.push(r.ms);
  }
  return latencyOf(ms);
}

/** p50, p99 and max of request times in ms (`latency`'s answer). */
function latencyOf(ms) {
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: Math.max(...ms), n: ms.length, ms };
}

/** `latency` results of the same requests asked in several rounds, as one. */
export function mergeLatency(results) {
  return latencyOf(results.flatMap((r) => r.ms));
}

export const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
export const line = (label, value) => console.log(`${label.padEnd(64)} ${value}`);
export const lat = (r) => `p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms  (n=${r.n}, max ${fmt(r.max)})`;

/** Deterministic pseudo-random numbers, so every run measures the same requests. */
export function rng(seed = 12345) {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}
