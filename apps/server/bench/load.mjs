// Load: 200 concurrent uploads of each of three real document sizes against the built `prof-server`
// in its own process; counts what was stored, the server's peak RSS (VmHWM) and the slowest /health
// meanwhile, and the server's own longest event-loop delay (Prometheus `nodejs_eventloop_lag_max_seconds`,
// reset by each scrape): the round trip also counts the client and the machine's other load.
// Run after a build: node apps/server/bench/load.mjs [concurrency]. Asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

const concurrency = Number(process.argv[2] ?? 200);
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'prof-load-'));
const proc = spawn(process.execPath, [cli, '--port', '0', '--no-demos', '--data', join(dir, 'data')], {
  env: { ...process.env, PROF_TOKEN: '' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
});
/** The event loop's longest delay since the previous call, ms (prom-client resets it per scrape). */
const loopLagMax = async () =>
  Number(/^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(await (await fetch(`${url}/metrics`)).text())[1]) * 1000;
const peakRss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) * 1024;
try {
  const sizes = [];
  for (const name of ['cpu_basic.prof', 'memory_spiky.prof', 'big_memory.prof']) {
    sizes.push({
      name,
      body: new Uint8Array(await gzipDocument(await readProfileFile(join(fixturesDir, 'vmprof-fresh', name)))),
    });
  }
  let stored = 0;
  for (const { name, body } of sizes) {
    let polling = true;
    let worstHealth = 0;
    const poll = (async () => {
      while (polling) {
        const t = performance.now();
        await (await fetch(`${url}/health`)).arrayBuffer();
        worstHealth = Math.max(worstHealth, performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await loopLagMax();
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: concurrency }, () =>
        fetch(`${url}/api/profiles?project=load`, { method: 'POST', body }).then(async (r) => ({
          status: r.status,
          retry: r.headers.get('retry-after'),
          body: await r.json(),
        })),
      ),
    );
    polling = false;
    await poll;
    const lag = await loopLagMax();
    const ok = answers.filter((a) => a.status === 201);
    const busy = answers.filter((a) => a.status === 503);
    stored += ok.length;
    const other = answers.filter((a) => a.status !== 201 && a.status !== 503).map((a) => a.status);
    console.log(
      `${concurrency} × ${name} (${(body.length / 1e6).toFixed(2)} MB): ${ok.length} stored, ${busy.length} 503 busy (Retry-After ${busy[0]?.retry ?? '-'}), other ${JSON.stringify(other)}, ${((performance.now() - started) / 1000).toFixed(1)} s; /health worst ${worstHealth.toFixed(0)} ms, event loop lag max ${lag.toFixed(0)} ms; peak RSS so far ${(peakRss() / 1e6).toFixed(0)} MB`,
    );
  }
  const listed = (await (await fetch(`${url}/api/profiles?project=load&limit=0`)).json()).total;
  console.log(`stored ${stored}, listed ${listed}: ${stored === listed ? 'none lost' : 'LOST SOME'}`);
} finally {
  proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
