import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  detectFormat,
  encodeDocument,
  exportSpeedscope,
  gzipDocument,
  importProfile,
  ProfFormatError,
  readProfileBytes,
  readSpeedscope,
  readVmprofViewerSubmit,
  sniffProfile,
  type ProfileDocument,
} from '../src/node';
import { fixture } from './codec-helpers';

const bytesOf = (rel: string) => new Uint8Array(readFileSync(fixture(rel)));
const tree = {
  VM: 'cpython',
  profiles: ['py:<module>:1:x.py', '140315289700655', 3, {}, [['py:f:25:x.py', '-57', 2, {}, []]]],
  argv: 'x.py a b',
  version: 2,
};
const treeBytes = new TextEncoder().encode(JSON.stringify(tree));

async function* chunked(bytes: Uint8Array, size = 1000) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** The samples as (stack of frame names, weight) counts: what every importer must agree on. */
function stackCounts(doc: ProfileDocument): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < doc.samples.length; i++) {
    const names: string[] = [];
    for (let s = doc.samples.stack[i]; s >= 0; s = doc.stacks.parent[s])
      names.push(doc.strings[doc.frames.name[doc.stacks.frame[s]]]);
    const key = names.reverse().join(';');
    out.set(key, (out.get(key) ?? 0) + (doc.samples.weight ? doc.samples.weight[i] : 1));
  }
  return out;
}

describe('importProfile: one entry, the format told by content', () => {
  it.each([
    ['vmprof/v6-cp311-memory.prof', 'vmprof'],
    ['vmprof/v6-cp311-large-memory-realtime.prof.gz', 'vmprof'],
    ['pyspy/cpu_work-idle.speedscope.json', 'speedscope'],
    ['pyspy/cpu_work.raw.txt', 'folded'],
    ['austin/alloc_work-wall.austin', 'austin'],
    ['documents/v1-derived-v3-memory.msgpack.gz', 'prof-document'],
    ['vmprof-viewer-client/decorator-memspikes.request.bin', 'vmprof-viewer'],
  ])('%s (%s): the same document as the Node reader, from bytes or a stream', async (rel, format) => {
    const bytes = bytesOf(rel);
    expect(sniffProfile(bytes.subarray(0, 65536)).format).toBe(format);
    if (detectFormat(bytes) !== 'gzip') expect(detectFormat(bytes.subarray(0, 4096))).toBe(format);
    const doc = await importProfile(bytes);
    expect(doc).toEqual(await readProfileBytes(bytes));
    expect(await importProfile(chunked(bytes))).toEqual(doc);
    expect(await importProfile(new Blob([bytes]).stream())).toEqual(doc);
  });

  it('reads a vmprof 0.1-0.3 call-tree upload: self counts become samples, addresses in hex', async () => {
    expect(detectFormat(treeBytes)).toBe('vmprof-tree');
    const doc = await importProfile(treeBytes);
    expect(doc.samples.length).toBe(3);
    expect(doc.samples.timeSource).toBe('none');
    expect(doc.meta.argv).toEqual(['x.py', 'a', 'b']);
    expect(stackCounts(doc)).toEqual(
      new Map([
        ['<module>', 1],
        ['<module>;f', 2],
      ]),
    );
    const addresses = Array.from(doc.frames.address, (a) => doc.strings[a]);
    expect(addresses).toEqual(['0x7f9db2ffc92f', '-0x39']);
  });

  it('refuses what it does not know with unknown-format naming the first bytes, and an empty input', async () => {
    for (const input of [new Uint8Array([1, 2, 3, 4]), new Uint8Array(0)]) {
      const error = await importProfile(input).catch((e) => e);
      expect(error).toBeInstanceOf(ProfFormatError);
      expect(error.code).toBe('unknown-format');
    }
    expect(() => sniffProfile(new Uint8Array([0x1f, 0x8b, 1, 2, 3]))).toThrow(/does not inflate/);
  });

  it('bounds what it holds: a stream over maxBytes, gzip over maxInflatedBytes', async () => {
    const bytes = bytesOf('pyspy/cpu_work-idle.speedscope.json');
    await expect(importProfile(chunked(bytes), { maxBytes: 1000 })).rejects.toMatchObject({ code: 'too-large' });
    await expect(importProfile(gzipSync(bytes), { maxInflatedBytes: 1000 })).rejects.toMatchObject({
      code: 'too-large',
    });
  });

  it('takes a gzipped Prof document as it is (schema upgraded, producer kept)', async () => {
    const doc = await importProfile(bytesOf('vmprof/v6-cp311-memory.prof'));
    const back = await importProfile(await gzipDocument(doc));
    expect(back).toEqual(doc);
    expect(await importProfile(encodeDocument(doc))).toEqual(doc);
  });
});

describe('exportSpeedscope', () => {
  it('writes what readSpeedscope reads back to the same weight per stack', async () => {
    const doc = await importProfile(bytesOf('vmprof/v6-cp311-memory.prof'));
    const json = exportSpeedscope(doc, { name: 'memory run' });
    expect(detectFormat(new TextEncoder().encode(json))).toBe('speedscope');
    const back = readSpeedscope(json);
    expect(stackCounts(back)).toEqual(new Map([...stackCounts(doc)].filter(([k]) => k !== '')));
  });

  it('exports a run of samples only', async () => {
    const doc = await importProfile(bytesOf('vmprof/v6-cp311-memory.prof'));
    const parsed = JSON.parse(exportSpeedscope(doc, { name: 'x', run: { start: 0, end: 10 } }));
    const total = parsed.profiles[0].weights.reduce((a: number, b: number) => a + b, 0);
    const empty = Array.from(doc.samples.stack.subarray(0, 10)).filter((s) => s < 0).length;
    expect(total).toBe(10 - empty);
  });
});

describe('readVmprofViewerSubmit on hostile bodies: a named 4xx-class error, bounded work', () => {
  const map = (entries: [string, Uint8Array][]) => {
    const parts: number[] = [0x80 + entries.length];
    for (const [k, v] of entries) parts.push(0xa0 + k.length, ...new TextEncoder().encode(k), ...v);
    return new Uint8Array(parts);
  };
  const cases: [string, Uint8Array, string][] = [
    ['truncated', new Uint8Array([0x82, 0xa7]), 'bad-msgpack'],
    ['an array claiming 2^32-1 items in 5 bytes', new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]), 'bad-msgpack'],
    ['100,000 nested arrays', new Uint8Array([...new Array(100_000).fill(0x91), 0xc0]), 'bad-submit'],
    ['bytes after the map', new Uint8Array([0x80, 0x00]), 'bad-msgpack'],
    ['no version', map([]), 'bad-submit'],
    ['a key named like a prototype field', map([['constructor', new Uint8Array([0x01])]]), 'bad-submit'],
    [
      'a blob that is not gzip',
      map([
        ['version', new Uint8Array([0x02])],
        ['period', new Uint8Array([0xcd, 0x03, 0xe8])],
        ['mem_profile', new Uint8Array([0xc4, 0x02, 0x01, 0x02])],
      ]),
      'bad-gzip',
    ],
  ];
  it.each(cases)('%s', async (_, body, code) => {
    const error = await readVmprofViewerSubmit(body, { maxInflatedBytes: 1 << 20 }).catch((e) => e);
    expect(error).toBeInstanceOf(ProfFormatError);
    expect(error.code).toBe(code);
  });

  it('refuses stack ids that are not integers', async () => {
    const { encode } = await import('@msgpack/msgpack');
    const blob = (v: unknown) => gzipSync(encode(v));
    const body = encode({ version: 2, period: 1000, mem_profile: blob([[[1.5], 100]]), addr_name_map: blob({}) });
    await expect(readVmprofViewerSubmit(body, { maxInflatedBytes: 1 << 20 })).rejects.toMatchObject({
      code: 'bad-submit',
      message: expect.stringContaining('integers'),
    });
  });
});
