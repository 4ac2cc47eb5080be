// `prof-server reindex` on many stored documents: N copies (default 10,000) of three real documents
// under fresh ids, then the built bin rebuilds the index with no old index to lend upload times.
// Run after a build: node apps/server/bench/reindex.mjs [N]. Prints the time; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { newProfileId } from '@prof/store';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

const n = Number(process.argv[2] ?? 10_000);
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const names = ['cpu_basic.prof', 'memory_spiky.prof', 'threads.prof'];
const documents = await Promise.all(
  names.map(async (name, i) => {
    const doc = await readProfileFile(join(fixturesDir, 'vmprof-fresh', name));
    doc.meta.project = `project-${i}`;
    return gzipDocument(doc);
  }),
);
const dir = mkdtempSync(join(tmpdir(), 'prof-reindex-bench-'));
try {
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const path = join(profiles, `${newProfileId()}.msgpack.gz`);
    const body = documents[i % documents.length];
    writeFileSync(path, body);
    const at = new Date(1_700_000_000_000 + i * 1000);
    utimesSync(path, at, at);
    bytes += body.length;
  }
  const started = performance.now();
  const run = spawnSync(process.execPath, [cli, 'reindex', '--data', dir], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(run.stderr);
  console.log(run.stderr.trim().split('\n').at(-1));
  console.log(
    `reindex of ${n} documents (${(bytes / 1e6).toFixed(0)} MB of ${names.join(', ')}): ${seconds.toFixed(1)} s wall, ${((seconds * 1000) / n).toFixed(2)} ms per document`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
