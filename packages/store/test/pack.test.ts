// @prof/store as a user gets it: `pnpm pack` of it and @prof/format, `npm install` of the tarballs
// outside the workspace, plain Node ESM through the public entry.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectPublishable, packedInstall } from '../../../scripts/pack-install';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

describe('@prof/store, packed and installed with npm', () => {
  const scratch = packedInstall(['format', 'store'], { native: ['better-sqlite3'] });

  it('is publishable as it is', () => {
    expectPublishable(scratch(), '@prof/store');
    expect(scratch().manifest('@prof/store').dependencies['@prof/format']).toBe(
      `^${scratch().manifest('@prof/format').version}`,
    );
  });

  it('the README opens with an example that runs as written', () => {
    const run = scratch().runReadmeExample('@prof/store', [join(fixturesDir, 'vmprof/v6-cp311-memory.prof')]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^[a-z2-7]{24} profile 243 \d+ bytes$/m);
    expect(run.stdout).toMatch(/^1 profile\(s\) in etl: \[ 'profile' \]$/m);
    expect(run.stdout).toMatch(/^true$/m);
  });

  it('opens a store in a directory, puts a profile and gets it back', () => {
    const run = scratch().run(`
      import { mkdtempSync, rmSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      import { openStore } from '@prof/store';
      const dir = mkdtempSync(join(tmpdir(), 'prof-store-pack-'));
      try {
        const bytes = new Uint8Array([0x1f, 0x8b, 1, 2, 3]);
        const fields = { project: 'etl', name: 'main', tags: { env: 'ci' }, interpreter: 'cpython', host: null,
          start: 1764000000000, end: 1764000008000, durationMs: 8000, sampleCount: 3, peakMemory: 1024, hasMemory: true, threads: 1 };
        let store = await openStore({ dir });
        const row = await store.put(bytes, fields);
        await store.close();
        store = await openStore({ dir }); // a new process would see the same
        const got = await store.get(row.id);
        const back = await store.getBytes(row.id);
        const found = await store.search({ project: 'etl' });
        await store.close();
        console.log(JSON.stringify({ id: row.id, name: got.name, size: got.sizeBytes, bytes: [...back], found: found.items.map((r) => r.id) }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    `);
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ name: 'main', size: 5, bytes: [0x1f, 0x8b, 1, 2, 3] });
    expect(out.found).toEqual([out.id]);
  });
});
