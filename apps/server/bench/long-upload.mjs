// Long raw uploads: big_memory.prof repeated N times (scripts/make-long-profile.mjs; default ×16 and
// ×64, kept in the system's temporary folder between runs) POSTed as is to /api/profiles (curl's
// route) against the built `prof-server` in its own process, each to a fresh server. Prints the
// upload time (first byte sent → 201 with the stored id), the server's peak RSS (VmHWM) and the
// slowest /health meanwhile. Run after a build: node apps/server/bench/long-upload.mjs [N...].
// Asserts nothing.
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { startServer } from './lib.mjs';

const sizes = process.argv.slice(2).map(Number);
const source = join(fixturesDir, 'vmprof-fresh/big_memory.prof');

const rows = [
  ['N', 'input', 'upload s', 'MB/s', 'server peak RSS', 'slowest /health', 'first /memory', 'peak RSS then', 'stored'],
];
for (const times of sizes.length ? sizes : [16, 64]) {
  const file = join(tmpdir(), `prof-bench-big_memory-x${times}.prof`);
  const expected = statSync(source).size * times;
  if (!existsSync(file) || Math.abs(statSync(file).size - expected) > expected * 0.01) {
    const free = statfsSync(tmpdir()).bavail * statfsSync(tmpdir()).bsize;
    if (free < expected * 2.2) {
      console.log(`×${times}: ${(expected / 1e9).toFixed(1)} GB and its spool would not fit in ${tmpdir()}`);
      continue;
    }
    makeLongProfile({ source, times, out: file });
  }
  const dir = mkdtempSync(join(tmpdir(), 'prof-long-upload-'));
  const { proc, url, peakRssMb } = await startServer(join(dir, 'data'));
  try {
    let polling = true;
    let worstHealth = 0;
    const poll = (async () => {
      while (polling) {
        const t = performance.now();
        await fetch(`${url}/health`);
        worstHealth = Math.max(worstHealth, performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const size = statSync(file).size;
    const t = performance.now();
    const response = await fetch(`${url}/api/profiles`, {
      method: 'POST',
      body: Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 })),
      headers: { 'content-length': String(size) },
      duplex: 'half',
    });
    const answer = await response.json();
    const seconds = (performance.now() - t) / 1000;
    const rssUpload = peakRssMb();
    // The first view after the upload (the server builds the profile's summaries in the background).
    const m = performance.now();
    const memory = await fetch(`${url}/api/profiles/${answer.id}/memory?bins=1500`);
    await memory.arrayBuffer();
    const memoryMs = performance.now() - m;
    polling = false;
    await poll;
    rows.push([
      `×${times}`,
      `${(size / 1e6).toFixed(0)} MB`,
      seconds.toFixed(1),
      (size / 1e6 / seconds).toFixed(0),
      `${((rssUpload * 1024 * 1024) / 1e6).toFixed(0)} MB`,
      `${worstHealth.toFixed(0)} ms`,
      `${memory.status} in ${memoryMs.toFixed(0)} ms`,
      `${((peakRssMb() * 1024 * 1024) / 1e6).toFixed(0)} MB`,
      response.status === 201 ? answer.id : `${response.status} ${JSON.stringify(answer)}`,
    ]);
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`prof-server long uploads — big_memory.prof × N, ${new Date().toISOString()}`);
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
for (const r of rows) console.log(r.map((v, c) => String(v).padEnd(widths[c])).join(' | '));
