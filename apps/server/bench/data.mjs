// Bench inputs: a synthetic document of a chosen compressed size, and an index of 100,000 profiles.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentBuilder, FrameKind, emptyMeta, gzipDocument } from '@prof/format/node';
import { SqliteProfileIndex, newProfileId } from '@prof/store';
import { rng } from './lib.mjs';

/**
 * A memory profile whose `.msgpack.gz` is about `targetBytes`: a long job with many distinct
 * stacks and noisy memory, which compresses about as badly as real long runs do.
 */
export async function syntheticDocument(targetBytes) {
  const random = rng(7);
  let samples = 40_000;
  for (;;) {
    const builder = new DocumentBuilder();
    const thread = builder.thread('main');
    const frames = Array.from({ length: 3000 }, (_, i) =>
      builder.frame(`f${i}`, () => ({
        name: `handler_${i}_${Math.floor(random() * 1e9).toString(36)}`,
        file: `app/module_${i % 97}.py`,
        line: 1 + (i % 900),
        kind: FrameKind.Python,
        raw: '',
        address: '',
      })),
    );
    let t = 0;
    let rss = 200 * 2 ** 20;
    for (let i = 0; i < samples; i++) {
      let stack = -1;
      const depth = 5 + Math.floor(random() * 15);
      for (let d = 0; d < depth; d++)
        stack = builder.stack(stack, frames[Math.floor(random() * (d < 3 ? 10 : frames.length))]);
      t += 1 + random() * 2;
      rss = Math.max(50 * 2 ** 20, rss + (random() - 0.5) * 2 ** 22);
      builder.sample(stack, t, thread, Math.round(rss));
    }
    const meta = emptyMeta('node-client');
    meta.project = 'bench';
    meta.name = 'synthetic';
    const doc = builder.finish({ meta, timeEstimated: false, timeSource: 'recorded' });
    const gz = await gzipDocument(doc);
    if (gz.length >= targetBytes * 0.95) return gz;
    samples = Math.ceil(samples * (targetBytes / gz.length) * 1.02);
  }
}

const WORDS = [
  'ingest',
  'etl',
  'billing',
  'search',
  'render',
  'train',
  'export',
  'crawler',
  'report',
  'sync',
  'resize',
  'index',
  'score',
  'backup',
  'notify',
  'parse',
];
const DAY = 86_400_000;

/**
 * Writes an index of `count` profiles (200 projects, 2,000 top-level names, tags, a year of start
 * times, a third with memory) straight into a data directory, each with a small stored file, so
 * the server opens it like any other. Returns a few values the queries use.
 */
export function populateIndex(dataDir, count, now = Date.now()) {
  const random = rng(99);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const profilesDir = join(dataDir, 'profiles');
  mkdirSync(profilesDir, { recursive: true });
  const projects = Array.from({ length: 200 }, (_, i) => `${pick(WORDS)}-${pick(WORDS)}-${i}`);
  const names = Array.from(
    { length: 2000 },
    (_, i) => `${pick(WORDS)}_${pick(['run', 'main', 'job', 'step', 'batch'])}_${i}`,
  );
  // Each project runs a handful of its own top-level functions, as real projects do.
  const namesOf = projects.map((_, p) => names.slice(p * 10, p * 10 + 3 + (p % 8)));
  const index = new SqliteProfileIndex(join(dataDir, 'index.sqlite'));
  const tiny = Buffer.from([0x1f, 0x8b]);
  let rows = [];
  for (let i = 0; i < count; i++) {
    const id = newProfileId();
    const p = Math.floor(random() ** 2 * projects.length);
    const hasMemory = random() < 0.33;
    const start = now - random() * 365 * DAY;
    const durationMs = 1000 + random() * 4 * 3600_000;
    rows.push({
      id,
      project: projects[p],
      name: pick(namesOf[p]),
      tags: {
        env: pick(['prod', 'staging', 'dev']),
        team: pick(['data', 'web', 'ml', 'infra']),
        ...(random() < 0.1 ? { release: `v${Math.floor(random() * 50)}` } : {}),
      },
      interpreter: pick(['cpython', 'pypy', 'node']),
      host: `host-${Math.floor(random() * 50)}`,
      start,
      end: start + durationMs,
      durationMs,
      sampleCount: Math.floor(durationMs / 2),
      peakMemory: hasMemory ? Math.floor(random() * 2 ** 34) : null,
      hasMemory,
      threads: 1 + Math.floor(random() * 4),
      sizeBytes: 2,
      uploadedAt: start + durationMs + random() * 60_000,
    });
    writeFileSync(join(profilesDir, `${id}.msgpack.gz`), tiny);
    if (rows.length === 5000) {
      index.insertMany(rows);
      rows = [];
    }
  }
  index.insertMany(rows);
  void index.close();
  return { project: projects[3], name: namesOf[3][0], rareName: namesOf[150][0] };
}
