#!/usr/bin/env node
// Bench of the web viewer in Chromium on the biggest fixture (not a test: it prints figures, it never
// fails because the machine is slow). A real server on a temporary store, the fixture uploaded over
// HTTP, then per run:
//   memory chart painted  navigation start → first frame after the chart holds the server's bins
//                         (server cache warm right after the upload, and cold after a server restart)
//   zoom redrawn          input event → frame painted with the re-binned window (drag, wheel, reset)
//   flame first paint     navigation start (?tab=cpu) → first frame of the flame graph, drawn from
//                         the server's pruned call tree of the range (no document download)
//   page memory           JS heap of the page's main thread, and how much the renderer processes'
//                         resident set grew over a blank page (the worker lives there too)
// Usage: node bench/bench.mjs [--runs N] [--fixture FILE.prof] [--repeat N]
//   --repeat N  the fixture's stack records written N times (scripts/make-long-profile.mjs): a run N
//               times as long, e.g. 16 for big_memory's 4 minutes → 1.1 hours (kept in the temp dir)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { longProfileFile } from '../../../scripts/make-long-profile.mjs';
import { fixtures, launchBrowser, serverCli, startServer, webRoot } from '../test/harness.mjs';
import { coldMemoryPaint, measureRun } from './measure.mjs';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'), // pnpm passes its `--` through
  options: {
    runs: { type: 'string', default: '3' },
    fixture: { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
});
const runs = Math.max(1, Number(values.runs) || 3);
const repeat = Math.max(1, Math.floor(Number(values.repeat) || 1));

function biggestFixture() {
  const profs = readdirSync(fixtures).filter((f) => f.endsWith('.prof'));
  profs.sort((a, b) => statSync(join(fixtures, b)).size - statSync(join(fixtures, a)).size);
  return profs[0];
}

const fixture = values.fixture ?? biggestFixture();
const source = join(fixtures, fixture);
const profilePath = longProfileFile({ source, times: repeat });
if (!profilePath) throw new Error(`${fixture} ×${repeat} would not fit in the temporary folder`);

/** Uploads the profile as a user would (POST /api/profiles, the raw .prof) and returns its id. */
async function upload(server, path, project, name) {
  const res = await fetch(`${server.url}/api/profiles?${new URLSearchParams({ project, name })}`, {
    method: 'POST',
    body: readFileSync(path),
  });
  if (!res.ok) throw new Error(`upload of ${path} failed: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}
if (!existsSync(serverCli))
  throw new Error(`${serverCli} is missing: build it with node scripts/pnpm.mjs --filter @prof/server run build`);
if (!existsSync(join(webRoot, 'dist', 'index.html'))) throw new Error('apps/web/dist is missing: run vite build first');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const mb = (n) => `${(n / 1048576).toFixed(0)} MB`;

const size = statSync(profilePath).size;
console.log(
  `prof web bench: ${fixture}${repeat > 1 ? ` ×${repeat}` : ''} (${mb(size)}), ${runs} runs, headless Chromium, node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`,
);
let server = await startServer();
const browser = await launchBrowser();
console.log(`Chromium ${browser.version()}`);
try {
  const t0 = performance.now();
  const id = await upload(server, profilePath, 'bench', basename(profilePath, '.prof'));
  console.log(`upload + server conversion: ${(performance.now() - t0).toFixed(0)} ms`);
  const row = await (await fetch(`${server.url}/api/profiles/${id}`)).json();
  console.log(
    `stored document: ${(row.sizeBytes / 1024).toFixed(0)} KiB gzipped, ${row.sampleCount.toLocaleString('en-US')} samples, ${(row.durationMs / 1000).toFixed(1)} s run`,
  );

  const results = [];
  const cold = [];
  for (let r = 0; r < runs; r++) {
    results.push(await measureRun(browser, server, id));
    // A restart empties the server's decoded-profile cache: the first open then decodes on the server.
    await server.stop();
    server = await startServer({ dataDir: server.dataDir });
    cold.push(await coldMemoryPaint(browser, server, id));
  }

  const row2 = (label, xs, target) => {
    const best = Math.min(...xs);
    const worst = Math.max(...xs);
    const verdict =
      target === undefined
        ? ''
        : best <= target
          ? `  (target ≤ ${target} ms: met)`
          : `  (target ≤ ${target} ms: MISSED)`;
    console.log(
      `${label.padEnd(44)} best ${best.toFixed(0).padStart(5)} ms   median ${median(xs).toFixed(0).padStart(5)} ms   spread ${(worst - best).toFixed(0).padStart(4)} ms${verdict}`,
    );
  };
  console.log('');
  row2(
    'navigation → memory chart painted (warm)',
    results.map((r) => r.memoryPainted),
    1000,
  );
  row2('navigation → memory chart painted (cold)', cold, 1000);
  const allZooms = results.flatMap((r) => r.zooms);
  row2('zoom → re-binned chart redrawn (each)', allZooms, 150);
  row2(
    'zoom → re-binned chart redrawn (median/run)',
    results.map((r) => median(r.zooms)),
    150,
  );
  row2(
    'navigation → flame graph first paint',
    results.map((r) => r.flamePainted),
    1000,
  );
  row2(
    'memory view → CPU tab → flame painted',
    results.map((r) => r.tabSwitch),
  );
  console.log(
    `\nbins drawn ${results[0].bins} on a plot ${results[0].plotWidth} px wide; flame boxes drawn ${results[0].flameNodes}`,
  );
  const heaps = results.map((r) => r.heap);
  const rss = results.map((r) => r.rss);
  console.log(
    `page memory after memory view + CPU tab: JS heap ${mb(Math.min(...heaps))}–${mb(Math.max(...heaps))}, renderer RSS over a blank page (page + worker) +${mb(Math.min(...rss))}–${mb(Math.max(...rss))}`,
  );
  const fheaps = results.map((r) => r.flameHeap);
  const frss = results.map((r) => r.flameRss);
  console.log(
    `page memory on the flame graph alone:     JS heap ${mb(Math.min(...fheaps))}–${mb(Math.max(...fheaps))}, renderer RSS over a blank page (page + worker) +${mb(Math.min(...frss))}–${mb(Math.max(...frss))}`,
  );
} finally {
  await browser.close();
  await server.close();
}
