import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectFormat,
  encodeDocument,
  gunzipDocument,
  gzipDocument,
  inspectFile,
  inspectVmprof,
  ProfFormatError,
  readProfileBytes,
  readProfileFile,
  readVmprof,
} from '../src/node';
import { fixture, handBuiltDocument } from './codec-helpers';
import { expectSameDocument } from './codec-compare';
import { loadProfile } from './inspect-truth';

const dir = mkdtempSync(join(tmpdir(), 'prof-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const memoryProf = fixture('vmprof/v6-cp311-memory.prof');

describe('detectFormat (by content, never by name)', () => {
  it.each([
    ['vmprof/v6-cp311-memory.prof', 'vmprof'],
    ['vmprof/v6-win64-example.prof', 'vmprof'], // 4-byte words
    ['vmprof/v0-test-2015-01-26.prof', 'vmprof'],
    ['vmprof/v6-cp311-large-memory-realtime.prof.gz', 'gzip'],
    ['vmprof/bad/big-endian-header.prof', 'vmprof'], // so the reader refuses it by name
    ['vmprof/bad/random-4k.prof', 'unknown'],
    ['vmprof/bad/empty.prof', 'unknown'],
  ])('%s is %s', (rel, format) => {
    expect(detectFormat(readFileSync(fixture(rel)).subarray(0, 4096))).toBe(format);
  });

  it('a big-endian vmprof file gets the reader\'s own error, not "unknown format"', async () => {
    await expect(readProfileFile(fixture('vmprof/bad/big-endian-header.prof'))).rejects.toMatchObject({
      code: 'big-endian',
      details: { offset: 8 },
    });
  });
});

describe('readProfileFile', () => {
  it('streams a vmprof file, reporting progress up to the file size', async () => {
    const calls: [number, number][] = [];
    const doc = await readProfileFile(memoryProf, { onProgress: (read, total) => calls.push([read, total]) });
    const size = readFileSync(memoryProf).length;
    expect(calls.at(-1)).toEqual([size, size]);
    expectSameDocument(doc, readVmprof(readFileSync(memoryProf)));
  });

  it('reads gzipped vmprof, a renamed file, and our own documents alike', async () => {
    const plain = readVmprof(readFileSync(memoryProf));
    const gz = join(dir, 'no-extension');
    writeFileSync(gz, gzipSync(readFileSync(memoryProf)));
    const fromGz = await readProfileFile(gz);
    expect(fromGz.meta.vmprof?.gzipped).toBe(true);
    expect(fromGz.samples.length).toBe(plain.samples.length);
    expectSameDocument(
      { ...fromGz, meta: { ...fromGz.meta, vmprof: { ...fromGz.meta.vmprof!, gzipped: false } } },
      plain,
    );

    const docGz = join(dir, 'doc.bin');
    writeFileSync(docGz, await gzipDocument(plain));
    expectSameDocument(await readProfileFile(docGz), plain);
    const docRaw = join(dir, 'doc.raw');
    writeFileSync(docRaw, encodeDocument(plain));
    expectSameDocument(await readProfileFile(docRaw), plain);
    expectSameDocument(await readProfileBytes(readFileSync(docGz)), plain);
  });

  it('keeps what inflates from a cut gzip stream and warns', async () => {
    const doc = await readProfileFile(fixture('vmprof/bad/truncated-gzip.prof.gz'));
    expect(doc.samples.length).toBeGreaterThan(0);
    expect(doc.warnings.map((w) => w.code)).toContain('truncated-gzip');
  });

  it('reads a V8 profile from bytes', async () => {
    const text = JSON.stringify({
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2] },
        { id: 2, callFrame: { functionName: 'f', url: 'a.js', lineNumber: 0, columnNumber: 0 } },
      ],
      samples: [2, 2],
      timeDeltas: [5, 5],
      startTime: 0,
      endTime: 20,
    });
    const doc = await readProfileBytes(gzipSync(text));
    expect(doc.meta.source).toBe('v8-cpuprofile');
    expect(doc.samples.length).toBe(2);
  });

  it('rejects unknown and empty input with unknown-format', async () => {
    await expect(readProfileFile(fixture('vmprof/bad/random-4k.prof'))).rejects.toMatchObject({
      code: 'unknown-format',
      details: { offset: 0 },
    });
    await expect(readProfileFile(fixture('vmprof/bad/empty.prof'))).rejects.toMatchObject({ code: 'unknown-format' });
  });
});

describe('gzipDocument / gunzipDocument', () => {
  it('round-trips', async () => {
    const doc = handBuiltDocument();
    const gz = await gzipDocument(doc);
    expect(gz[0]).toBe(0x1f);
    expect(await gunzipDocument(gz)).toEqual(doc);
  });

  it('stops inflating a gzip bomb with too-large', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(gunzipDocument(bomb, { maxInflatedBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'too-large' });
  });

  it('names bad gzip and bad msgpack', async () => {
    await expect(gunzipDocument(Buffer.from('plain text'))).rejects.toMatchObject({ code: 'bad-gzip' });
    const gz = await gzipDocument(handBuiltDocument());
    await expect(gunzipDocument(gz.subarray(0, gz.length - 12))).rejects.toMatchObject({ code: 'bad-gzip' });
    const cut = gzipSync(encodeDocument(handBuiltDocument()).subarray(0, 100));
    await expect(gunzipDocument(cut)).rejects.toMatchObject({ code: 'bad-msgpack' });
    await expect(gunzipDocument(cut)).rejects.toBeInstanceOf(ProfFormatError);
  });
});

describe('inspectFile', () => {
  it.each(['vmprof/v6-cp311-memory.prof', 'vmprof/v6-cp311-large-memory-realtime.prof.gz'])(
    'matches the truth for %s',
    async (rel) => {
      const path = fixture(rel);
      const expected = JSON.parse(readFileSync(path.replace(/\.prof(\.gz)?$/, '.expected.json'), 'utf8'));
      const got = (await inspectFile(path)) as unknown as Record<string, unknown>;
      for (const key of [
        'file',
        'header',
        'sample_count',
        'symbol_count',
        'thread_ids',
        'samples_sha256',
        'tree_root',
        'symbols_sha256',
      ]) {
        expect(got[key], key).toEqual(expected[key]);
      }
    },
  );

  it.each([
    'vmprof/bad/truncated-in-name.prof',
    'vmprof-fresh/lines_recursive_cli.prof',
    'vmprof/bad/truncated-gzip.prof.gz',
  ])(
    'streams to the same JSON as inspectVmprof on the whole bytes, quirks and located warnings included: %s',
    async (rel) => {
      const path = fixture(rel);
      const loaded = loadProfile(path);
      const whole = inspectVmprof(loaded.bytes, loaded.file);
      const streamed = await inspectFile(path);
      // The gzip layer adds its own warning; everything else is the same.
      const { warnings, ...rest } = streamed;
      const { warnings: wholeWarnings, ...wholeRest } = whole;
      expect(rest).toEqual(wholeRest);
      expect(warnings?.filter((w) => w.code !== 'truncated-gzip')).toEqual(wholeWarnings);
      expect(warnings?.every((w) => typeof w.offset === 'number')).toBe(true);
      expect(new Set(warnings?.map((w) => `${w.code}@${w.offset}`)).size).toBe(warnings?.length);
    },
  );

  it('refuses files that are not vmprof', async () => {
    const p = join(dir, 'doc.msgpack.gz');
    copyFileSync(memoryProf, join(dir, 'x.prof'));
    writeFileSync(p, await gzipDocument(handBuiltDocument()));
    await expect(inspectFile(p)).rejects.toMatchObject({ code: 'not-vmprof' });
  });
});
