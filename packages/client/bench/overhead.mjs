// `pnpm --filter @prof/client bench`: what `profile()` costs a CPU-bound function at the default
// settings (1 ms CPU sampling, memory every 10 ms). Each call is timed alone; the background
// conversion and upload of the previous call are flushed before the next call starts, so only the
// price the program itself pays is measured. A benchmark, not a test: it fails nothing.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { flushProfiles, profile } from '../dist/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 15);

// A real HTTP endpoint that accepts uploads as the Prof server does, so delivery is the real path.
let uploads = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    uploads++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: `b${uploads}`, url: `/profiles/b${uploads}` }));
  });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const server = `http://127.0.0.1:${sink.address().port}`;
const spoolDir = mkdtempSync(join(tmpdir(), 'prof-bench-spool-'));

/** CPU-bound work with calls, allocation and a sort: about 150 ms here. */
function work() {
  const rows = [];
  for (let i = 0; i < 200_000; i++) rows.push({ k: (i * 2654435761) % 1000003, v: Math.sqrt(i) });
  rows.sort((a, b) => a.k - b.k);
  let acc = 0;
  for (const r of rows) acc += r.v * (r.k & 7);
  return acc;
}

const profiled = profile(work, { server, spoolDir, project: 'bench', quiet: true });

function time(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

for (let i = 0; i < 3; i++) time(work), time(profiled); // JIT and worker warm-up
await flushProfiles(10_000);

const plain = [];
const withProfile = [];
for (let i = 0; i < ROUNDS; i++) {
  // Interleaved, so drift of the machine (other load, CPU frequency) hits both sides alike.
  plain.push(time(work));
  withProfile.push(time(profiled));
  await flushProfiles(10_000);
}
const ratio = median(withProfile) / median(plain);
console.log(`@prof/client overhead bench · node ${process.version} · ${cpus()[0]?.model ?? '?'} × ${cpus().length}`);
console.log(`CPU-bound function, ${ROUNDS} rounds, default interval (1 ms CPU, 10 ms memory)`);
console.log(`  without profile: median ${median(plain).toFixed(1)} ms (min ${Math.min(...plain).toFixed(1)})`);
console.log(
  `  with profile:    median ${median(withProfile).toFixed(1)} ms (min ${Math.min(...withProfile).toFixed(1)})`,
);
console.log(`  ratio: ${ratio.toFixed(3)} (target <= 1.10) · ${uploads} profiles uploaded`);
sink.close();
rmSync(spoolDir, { recursive: true, force: true });
