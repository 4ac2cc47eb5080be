// The streaming converter writes, byte for byte, what the in-memory one writes: on every vmprof
// fixture (small chunks, so every fixture crosses chunk boundaries) and on a profile four times
// longer than big_memory.prof, with the column files left in a folder the test checks is emptied.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import {
  convertProfileFile,
  documentSummary,
  gunzipDocument,
  gzipDocument,
  nameThreadsByEntry,
  readProfileFile,
  scriptFile,
  summarizeHeld,
} from '../src/node';
import { fixturesRoot, vmprofFixtureFiles } from './vmprof-helpers';

const work = mkdtempSync(join(tmpdir(), 'prof-convert-stream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function inMemory(path: string): Promise<Buffer | Error> {
  try {
    return await gzipDocument(await readProfileFile(path));
  } catch (e) {
    return e as Error;
  }
}

async function streamed(path: string, chunkSamples: number): Promise<Buffer | Error> {
  const out = join(work, 'out.msgpack.gz');
  const tmpDir = join(work, 'columns');
  rmSync(tmpDir, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(tmpDir);
  try {
    const r = await convertProfileFile(path, out, { chunkSamples, tmpDir });
    const bytes = readFileSync(out);
    expect(r.bytes).toBe(bytes.length);
    return bytes;
  } catch (e) {
    return e as Error;
  } finally {
    expect(readdirSync(tmpDir)).toEqual([]);
  }
}

const profiles = vmprofFixtureFiles((f) => /\.(prof|tsprof)(\.gz)?$/.test(f));

describe('convertProfileFile', () => {
  it.each(profiles.map((p) => [p.slice(fixturesRoot.length + 1), p]))(
    '%s: the same bytes as gzipDocument(readProfileFile)',
    async (_, path) => {
      const want = await inMemory(path);
      const got = await streamed(path, 97);
      if (want instanceof Error) {
        expect(got).toBeInstanceOf(Error);
        expect((got as Error).message).toBe(want.message);
      } else {
        expect(got).toBeInstanceOf(Buffer);
        expect(Buffer.compare(got as Buffer, want)).toBe(0);
      }
    },
  );

  it.each(profiles.map((p) => [p.slice(fixturesRoot.length + 1), p]))(
    '%s: summary, script and thread names from the sample groups equal those from the samples',
    async (_, path) => {
      const doc = await readProfileFile(path).catch(() => null);
      if (!doc) return;
      const streamed = summarizeHeld(doc);
      expect(documentSummary(doc, streamed)).toEqual(documentSummary(doc));
      expect(scriptFile(doc, streamed.groups)).toBe(scriptFile(doc));
      const named = structuredClone(doc);
      nameThreadsByEntry(named, streamed.groups);
      nameThreadsByEntry(doc);
      expect(named.threads.name).toEqual(doc.threads.name);
    },
  );

  it('a profile four times longer than big_memory.prof: the same bytes, four times the samples', async () => {
    const long = join(work, 'x4.prof');
    const made = makeLongProfile({ source: join(fixturesRoot, 'vmprof-fresh/big_memory.prof'), times: 4, out: long });
    const want = await inMemory(long);
    const got = await streamed(long, 65536);
    expect(Buffer.compare(got as Buffer, want as Buffer)).toBe(0);
    const doc = await gunzipDocument(got as Buffer);
    expect(doc.samples.length).toBe(made.samples);
    expect(doc.samples.memory).not.toBeNull();
  });

  it('a bad file longer than one read: its error, the read already in flight let end, no column left behind', async () => {
    // A vmprof static header, then 9 MiB of no known record: the reader throws on the first 4 MiB
    // while the second is being read.
    const junk = join(work, 'junk.prof');
    const bytes = new Uint8Array(9 << 20).fill(0xee);
    bytes.set(readFileSync(join(fixturesRoot, 'vmprof-fresh/big_memory.prof')).subarray(0, 40));
    writeFileSync(junk, bytes);
    const got = await streamed(junk, 1000);
    expect(got).toBeInstanceOf(Error);
    expect((got as Error).message).toMatch(/unknown record marker 0xee/);
  });

  it('reports the streamed samples: counts by stack and thread, first and last time, peak memory', async () => {
    const path = join(fixturesRoot, 'vmprof-fresh/big_memory.prof');
    const out = join(work, 'summary.msgpack.gz');
    const r = await convertProfileFile(path, out, { chunkSamples: 1000 });
    const doc = await readProfileFile(path);
    const counts = new Map<string, number>();
    for (let i = 0; i < doc.samples.length; i++) {
      const key = `${doc.samples.stack[i]}/${doc.samples.thread[i]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const g = r.samples.groups;
    expect(Array.from({ length: g.length }, (_, i) => [`${g.stack[i]}/${g.thread[i]}`, g.count[i]])).toEqual([
      ...counts,
    ]);
    expect(r.samples.firstTime).toBe(doc.samples.time[0]);
    expect(r.samples.lastTime).toBe(doc.samples.time[doc.samples.length - 1]);
    expect(r.samples.peakMemory).toBe((doc.samples.memory as Float64Array).reduce((a, b) => Math.max(a, b), -Infinity));
    expect(r.document.samples.length).toBe(doc.samples.length);
  });

  it.each(profiles.map((p) => [p.slice(fixturesRoot.length + 1), p]))(
    '%s: onSamples is handed every sample, in order, as the written document holds it',
    async (_, path) => {
      const out = join(work, 'on-samples.msgpack.gz');
      const seen: Record<'stack' | 'thread' | 'time' | 'memory' | 'weight' | 'heap', number[]> = {
        stack: [],
        thread: [],
        time: [],
        memory: [],
        weight: [],
        heap: [],
      };
      let stacksAtStart = -1;
      let next = 0;
      const r = await convertProfileFile(path, out, {
        chunkSamples: 97,
        onSamples(doc) {
          stacksAtStart = doc.stacks.length;
          return (chunk) => {
            expect(chunk.start).toBe(next);
            next += chunk.length;
            for (const name of Object.keys(seen) as (keyof typeof seen)[]) {
              const column = chunk[name];
              if (column) {
                expect(column.length).toBe(chunk.length);
                seen[name].push(...column);
              }
            }
          };
        },
      }).catch(() => null);
      if (!r) return; // a file neither converter reads (the byte-for-byte test checks both fail alike)
      const doc = await gunzipDocument(readFileSync(out));
      // Only vmprof files stream; the others are converted in memory and never call onSamples.
      if (next === 0 && doc.samples.length > 0) return expect(doc.meta.source).not.toBe('vmprof');
      expect(stacksAtStart).toBe(doc.stacks.length);
      expect(next).toBe(doc.samples.length);
      const s = doc.samples;
      expect(seen.stack).toEqual([...s.stack]);
      expect(seen.thread).toEqual([...s.thread]);
      expect(seen.time).toEqual([...s.time]);
      for (const name of ['memory', 'weight', 'heap'] as const)
        expect(seen[name]).toEqual(s[name] ? [...(s[name] as Float64Array)] : []);
    },
  );
});
