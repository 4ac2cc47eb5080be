#!/usr/bin/env node
// Zoom → redrawn alone, on long profiles kept in one store between runs (bench/long.mjs measures it too,
// among everything else, after converting and uploading each size anew). For each size: big_memory ×N
// (scripts/make-long-profile.mjs) uploaded once into DATA (kept), then per run a restarted server and a
// fresh page: the memory chart, then the zoom gestures of measure.mjs, each timed from the input event
// to the frame painted with the re-binned window, with where the time went (from the page's Resource
// Timing of its /memory request: fetch called, request sent, first byte, last byte).
//
//   node bench/zoom.mjs [N...] [--runs R] [--data DIR]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '../apps/server/bench/lib.mjs';
import { summariesBuilt, uploadRaw } from '../apps/server/bench/long-upload.mjs';
import { fixturesDir } from '../scripts/fixtures.mjs';
import { longProfileFile } from '../scripts/make-long-profile.mjs';
import { launchBrowser } from '../apps/web/test/harness.mjs';
import { zoomRun } from '../apps/web/bench/measure.mjs';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    data: { type: 'string', default: join(tmpdir(), 'prof-bench-zoom-store') },
  },
});
const sizes = positionals.length ? positionals.map(Number) : [1, 64];
const runs = Math.max(1, Number(values.runs) || 3);
const data = values.data;
const source = join(fixturesDir, 'vmprof-fresh/big_memory.prof');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
mkdirSync(data, { recursive: true });
const idsFile = join(data, 'bench-ids.json');
const ids = existsSync(idsFile) ? JSON.parse(readFileSync(idsFile, 'utf8')) : {};

const browser = await launchBrowser();
const out = {};
try {
  for (const n of sizes) {
    if (!ids[n]) {
      const file = longProfileFile({ source, times: n, spare: 1.3 });
      if (!file) throw new Error(`big_memory ×${n} would not fit in ${tmpdir()}`);
      const server = await startServer(data);
      try {
        ids[n] = (await uploadRaw(server.url, file)).id;
        await summariesBuilt(server.url);
      } finally {
        await server.stop();
      }
      writeFileSync(idsFile, JSON.stringify(ids));
    }
    const all = [];
    for (let r = 0; r < runs; r++) {
      const server = await startServer(data);
      try {
        all.push(...(await zoomRun(browser, server, ids[n])));
      } finally {
        await server.stop();
      }
    }
    out[n] = all;
    const ms = all.map((z) => z.ms);
    console.log(
      `×${n}: zoom → redrawn median ${median(ms).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms over ${ms.length}`,
    );
    for (const z of all)
      console.log(
        `  ${z.gesture.padEnd(6)} ${z.ms.toFixed(0).padStart(4)} ms: fetch +${z.asked.toFixed(0)}, request sent +${z.sent.toFixed(0)}, first byte +${z.received.toFixed(0)}, answered +${z.answered.toFixed(0)}, painted +${z.ms.toFixed(0)} (${z.bins} bins, ${z.bytes} B)`,
      );
  }
} finally {
  await browser.close();
}
if (sizes.length > 1) {
  const lo = out[sizes[0]].map((z) => z.ms);
  const hi = out[sizes.at(-1)].map((z) => z.ms);
  console.log(
    `ratio ×${sizes.at(-1)} / ×${sizes[0]}: median ${(median(hi) / median(lo)).toFixed(2)}, max ${(Math.max(...hi) / Math.max(...lo)).toFixed(2)}`,
  );
}
