// Long raw uploads: big_memory.prof repeated N times (scripts/make-long-profile.mjs; default ×16 and
// ×64, kept in the system's temporary folder between runs) POSTed as is to /api/profiles (curl's
// route) against the built `prof-server` in its own process, each to a fresh server. Prints the
// upload time (first byte sent → 201 with the stored id), the server's peak RSS (VmHWM) and the
// slowest /health meanwhile. Run after a build: node apps/server/bench/long-upload.mjs [N...].
// Asserts nothing. `uploadRaw` and `summariesBuilt` are what the whole long-profile bench
// (bench/long.mjs at the root) runs.
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { printTable } from '../../../bench/table.mjs';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { longProfileFile } from '../../../scripts/make-long-profile.mjs';
import { json, startServer } from './lib.mjs';

/** Nanoseconds the thread `pid`'s main thread has waited on a run queue (for a core), or NaN off Linux. */
function waitedNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return Number.NaN;
  }
}

/**
 * POSTs `file` raw to `url`'s /api/profiles while polling /health every 100 ms: the stored id, the
 * upload's time in ms (first byte → answer) and the slowest /health meanwhile. Given the server's
 * `pid`, also the slowest /health less the time the server's event loop spent waiting for a core
 * during it (`worstHealthOwnMs`): on a loaded machine most of a slow answer is that wait, which no
 * change to the server removes (schedstat, Linux).
 */
export async function uploadRaw(url, file, query = '', pid = undefined) {
  let polling = true;
  let worstHealth = 0;
  let worstOwn = 0;
  const poll = (async () => {
    while (polling) {
      const waited = pid === undefined ? Number.NaN : waitedNs(pid);
      const t = performance.now();
      await fetch(`${url}/health`);
      const ms = performance.now() - t;
      worstHealth = Math.max(worstHealth, ms);
      const own = ms - (waitedNs(pid) - waited) / 1e6;
      if (own > worstOwn) worstOwn = own;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const size = statSync(file).size;
    const t = performance.now();
    const response = await fetch(`${url}/api/profiles${query}`, {
      method: 'POST',
      body: Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 })),
      headers: { 'content-length': String(size) },
      duplex: 'half',
    });
    const answer = await response.json();
    const ms = performance.now() - t;
    if (response.status !== 201) throw new Error(`upload of ${file}: ${response.status} ${JSON.stringify(answer)}`);
    return {
      id: answer.id,
      ms,
      bytes: size,
      worstHealthMs: worstHealth,
      worstHealthOwnMs: pid === undefined ? undefined : worstOwn,
    };
  } finally {
    polling = false;
    await poll;
  }
}

/**
 * Resolves once the server has no summary build under way and `count` built (they start when a
 * profile is stored): /health's own counters, polled, as a bench has no other signal to wait on.
 */
export async function summariesBuilt(url, count = 1) {
  for (;;) {
    const { summaries } = await json(`${url}/health`);
    if (summaries.failed) throw new Error(`a summary build failed: ${JSON.stringify(summaries)}`);
    if (summaries.building === 0 && summaries.built >= count) return summaries;
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number);
  const source = join(fixturesDir, 'vmprof-fresh/big_memory.prof');
  const rows = [
    [
      'N',
      'input',
      'upload s',
      'MB/s',
      'server peak RSS',
      'slowest /health',
      'less waits for a core',
      'first /memory',
      'peak RSS then',
      'stored',
    ],
  ];
  for (const times of sizes.length ? sizes : [16, 64]) {
    const file = longProfileFile({ source, times, spare: 2.2 });
    if (!file) {
      console.log(`×${times}: the profile and its spool would not fit in ${tmpdir()}`);
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), 'prof-long-upload-'));
    const { proc, url, peakRssMb } = await startServer(join(dir, 'data'));
    try {
      const up = await uploadRaw(url, file, '', proc.pid);
      const rssUpload = peakRssMb();
      // The first view after the upload (the server builds the profile's summaries in the background).
      const m = performance.now();
      const memory = await fetch(`${url}/api/profiles/${up.id}/memory?bins=1500`);
      await memory.arrayBuffer();
      const memoryMs = performance.now() - m;
      rows.push([
        `×${times}`,
        `${(up.bytes / 1e6).toFixed(0)} MB`,
        (up.ms / 1000).toFixed(1),
        (up.bytes / 1e3 / up.ms).toFixed(0),
        `${((rssUpload * 1024 * 1024) / 1e6).toFixed(0)} MB`,
        `${up.worstHealthMs.toFixed(0)} ms`,
        `${up.worstHealthOwnMs.toFixed(0)} ms`,
        `${memory.status} in ${memoryMs.toFixed(0)} ms`,
        `${((peakRssMb() * 1024 * 1024) / 1e6).toFixed(0)} MB`,
        up.id,
      ]);
    } finally {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`prof-server long uploads — big_memory.prof × N, ${new Date().toISOString()}`);
  printTable(rows);
}
