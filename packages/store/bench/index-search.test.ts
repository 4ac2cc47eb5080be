// Bench (`PROF_BENCH=1 node node_modules/vitest/vitest.mjs run --project @prof/store`): search latency of the SQLite and PostgreSQL indexes at 100,000 profiles,
// the same rows and query shapes; prints p50/p99 per shape. Not part of the test run (see vitest.config.ts).
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SqliteProfileIndex,
  newProfileId,
  type IndexRowInput,
  type ProfileIndex,
  type SearchQuery,
} from '../src/index';
import { freshPostgresIndex } from '../test/services';

const N = 100_000;

describe('index bench', () => {
  it(`searches ${N} profiles`, { timeout: 600_000 }, async () => {
    const rows: IndexRowInput[] = Array.from({ length: N }, (_, i) => ({
      project: ['etl-nightly', 'web', 'billing', 'ml-train', 'search'][i % 5] + (i % 97),
      name: `fn_${i % 331}`,
      tags: { env: i % 3 ? 'prod' : 'dev' },
      interpreter: 'cpython',
      host: 'box',
      start: 1_700_000_000_000 + i * 1000,
      end: null,
      durationMs: (i * 7919) % 100_000,
      sampleCount: i % 5000,
      peakMemory: i % 2 ? i * 100 : null,
      hasMemory: i % 2 === 1,
      threads: 1,
      id: newProfileId(),
      sizeBytes: 1000 + (i % 1000),
      uploadedAt: 1_700_000_000_000 + i * 1000,
    }));
    const dir = await mkdtemp(join(tmpdir(), 'prof-bench-'));
    const sqlite = new SqliteProfileIndex(join(dir, 'index.sqlite'));
    sqlite.insertMany(rows);
    const postgres = await freshPostgresIndex();
    const t = performance.now();
    await postgres.insertMany(rows);
    console.log(`postgres insert ${N}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const queries: [string, SearchQuery][] = [
      ['newest page', {}],
      ['substring etl', { q: 'etl' }],
      ['substring fn_12', { q: 'fn_12' }],
      ['tag env=dev by duration', { tags: { env: 'dev' }, sort: 'durationMs' }],
      ['has memory, offset 20000', { hasMemory: true, offset: 20_000 }],
      ['project + name', { project: 'web1', name: 'fn_1' }],
      ['deep offset 50000', { offset: 50_000 }],
    ];
    const report = async (kind: string, index: ProfileIndex) => {
      for (const [label, query] of queries) {
        const times: number[] = [];
        for (let i = 0; i < 40; i++) {
          const s = performance.now();
          await index.search(query);
          times.push(performance.now() - s);
        }
        times.sort((a, b) => a - b);
        console.log(`${kind} ${label}: p50 ${times[20].toFixed(1)} ms, p99 ${times[39].toFixed(1)} ms`);
      }
      const s = performance.now();
      await index.projects();
      console.log(`${kind} projects: ${(performance.now() - s).toFixed(1)} ms`);
    };
    await report('sqlite', sqlite);
    await report('postgres', postgres);
    expect((await postgres.search({ q: 'etl' })).total).toBe((await sqlite.search({ q: 'etl' })).total);
    await sqlite.close();
    await postgres.close();
    await rm(dir, { recursive: true, force: true });
  });
});
