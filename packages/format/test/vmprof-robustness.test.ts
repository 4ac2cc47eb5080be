// Cut, chunked and mutated input: every case ends in a document or a ProfFormatError, never anything else.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ProfFormatError,
  createVmprofReader,
  readVmprofDetailed,
  type ProfileDocument,
  type VmprofReadResult,
} from '../src/index';
import { assertIntegrity } from '../src/integrity';
import { fixtureBytes, fixturesRoot } from './vmprof-helpers';

const fixture = (name: string) => fixtureBytes(join(fixturesRoot, name));

/** Small seeded PRNG (mulberry32): the same cases on every run and machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = { result: VmprofReadResult } | { error: ProfFormatError };

function outcome(read: () => VmprofReadResult): Outcome {
  try {
    return { result: read() };
  } catch (e) {
    if (e instanceof ProfFormatError) return { error: e };
    throw e;
  }
}

function readChunked(bytes: Uint8Array, sizes: () => number): VmprofReadResult {
  const reader = createVmprofReader();
  for (let o = 0; o < bytes.length; ) {
    const n = Math.max(1, sizes());
    reader.push(bytes.subarray(o, o + n));
    o += n;
  }
  return reader.finishDetailed();
}

describe('a profile cut at every length', () => {
  const whole = fixture('vmprof/v6-cp311-memory.prof');
  const full = readVmprofDetailed(whole).document;

  it('gives the typed error inside the static header, else a document with a truncated / no-trailer warning', () => {
    let documents = 0;
    for (let n = 0; n < whole.length; n++) {
      const got = outcome(() => readVmprofDetailed(whole.subarray(0, n)));
      if ('error' in got) {
        expect(n, `length ${n}: ${got.error.message}`).toBeLessThan(40);
        expect(['empty', 'truncated']).toContain(got.error.code);
        continue;
      }
      documents++;
      const doc = got.result.document;
      expect(n).toBeGreaterThanOrEqual(40);
      const codes = doc.warnings.map((w) => w.code);
      expect(codes.includes('truncated') || codes.includes('no-trailer'), `length ${n}: ${codes}`).toBe(true);
      // What was read is exactly the start of the whole file's samples.
      expect(samePrefix(doc.samples.stack, full.samples.stack), `length ${n}: stacks`).toBe(true);
      if (doc.samples.length > 0)
        expect(samePrefix(doc.samples.memory!, full.samples.memory!), `length ${n}: memory`).toBe(true);
      assertIntegrity(doc);
    }
    expect(documents).toBe(whole.length - 40);
  });

  it('names the offset of the record that was cut', () => {
    // bad/README: the third stack record starts at byte 286.
    const doc = readVmprofDetailed(whole.subarray(0, 300)).document;
    expect(doc.samples.length).toBe(2);
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 'truncated', offset: 286 })]);
    expect(doc.warnings[0].message).toContain('byte 286');
  });
});

describe('chunked pushing', () => {
  const names = [
    'vmprof/v6-cp311-memory.prof',
    'vmprof/v6-cp311-lines.prof',
    'vmprof/v6-win64-example.prof',
    'vmprof/v0-test-2015-01-26.prof',
    'vmprof/derived-v2-pypy.prof',
    'vmprof/v7-cpython-cpuburn.tsprof',
    'vmprof/v6-cp311-killed-no-trailer.prof',
    'vmprof/bad/flipped-marker.prof',
    'vmprof/bad/truncated-mid-stack.prof',
    'vmprof-fresh/truncated_utf8_name.prof',
    'vmprof-fresh/pypy_jit.prof',
  ];
  for (const name of names) {
    it(`${name}: random chunk sizes give the same document as one push`, () => {
      const bytes = fixture(name);
      const once = readVmprofDetailed(bytes);
      const random = prng(name.length);
      const variants: (() => number)[] = [
        () => 1,
        () => 1 + Math.floor(random() * 7),
        () => 1 + Math.floor(random() * 300),
        () => (random() < 0.5 ? 1 : 1 + Math.floor(random() * 5000)),
        // Small pieces then big chunks: records across the seam of a tail and a big chunk.
        () => (random() < 0.3 ? 1 + Math.floor(random() * 40) : 5000 + Math.floor(random() * 60000)),
      ];
      for (const sizes of bytes.length > 300_000 ? variants.slice(1) : variants) {
        const chunked = readChunked(bytes, sizes);
        expect(chunked.document).toEqual(once.document);
        expect(chunked.symbols).toEqual(once.symbols);
        expect(chunked.end).toEqual(once.end);
      }
    });
  }

  it('errors the same way in chunks: gzip input, bad header', () => {
    const gz = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    for (const bytes of [gz, fixture('vmprof/bad/random-4k.prof'), fixture('vmprof/bad/absurd-stack-depth.prof')]) {
      const once = outcome(() => readVmprofDetailed(bytes));
      const chunked = outcome(() => readChunked(bytes, () => 1));
      expect('error' in once && 'error' in chunked).toBe(true);
      if ('error' in once && 'error' in chunked) {
        expect(chunked.error.code).toBe(once.error.code);
        expect(chunked.error.details).toEqual(once.error.details);
      }
    }
    expect(outcome(() => readVmprofDetailed(gz))).toEqual({ error: expect.objectContaining({ code: 'gzipped' }) });
  });

  it('keeps only the unconsumed tail between pushes and ignores bytes after the trailer', () => {
    const bytes = fixture('vmprof/v0-wsgi-cpython-2015-07-21.prof'); // /proc/self/maps text after the trailer
    const reader = createVmprofReader();
    const progress: number[] = [];
    const withProgress = createVmprofReader({ onProgress: (n) => progress.push(n) });
    for (let o = 0; o < bytes.length; o += 4096) {
      reader.push(bytes.subarray(o, o + 4096));
      withProgress.push(bytes.subarray(o, o + 4096));
    }
    const result = reader.finishDetailed();
    expect(result.end.reason).toBe('trailer');
    expect(result.end.offset).toBeLessThan(bytes.length - 9000);
    withProgress.finish();
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);
  });
});

describe('fuzz: seeded mutations of real fixtures', () => {
  const sources = [
    fixture('vmprof/v6-cp311-memory.prof'),
    fixture('vmprof/v6-linux-multithread-mem-lines-native.prof'),
    fixture('vmprof/derived-v3-memory.prof'),
    fixture('vmprof/bad/truncated-mid-stack.prof'),
    fixture('vmprof/v6-win64-example-lines.prof').subarray(0, 12_000),
    fixture('vmprof/v6-pypy3-memory-native.prof').subarray(0, 8_000),
    fixture('vmprof/v6-pypy3-memory-native.prof').subarray(-12_000),
    fixture('vmprof/v0-richards-cpython-2015-04-06.prof').subarray(0, 10_000),
    fixture('vmprof/v7-cpython-cpuburn.tsprof').subarray(0, 10_000),
    fixture('vmprof-fresh/lines.prof').subarray(0, 10_000),
  ];
  // Values that steer a mutated byte into the interesting places: markers, signs, length words.
  const special = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x7f, 0x80, 0xff];

  function mutate(random: () => number, input: Uint8Array): Uint8Array {
    let bytes = input.slice();
    const steps = 1 + Math.floor(random() * 4);
    for (let s = 0; s < steps; s++) {
      const at = Math.floor(random() * bytes.length);
      const op = Math.floor(random() * 6);
      if (op === 0) bytes[at] ^= 1 << Math.floor(random() * 8);
      else if (op === 1) bytes[at] = special[Math.floor(random() * special.length)];
      else if (op === 2) bytes[at] = Math.floor(random() * 256);
      else if (op === 3) bytes = bytes.slice(0, at);
      else if (op === 4) {
        // Splice: a slice of another real file in place of a range of this one.
        const other = sources[Math.floor(random() * sources.length)];
        const from = Math.floor(random() * other.length);
        const piece = other.subarray(from, from + Math.floor(random() * 200));
        const cut = Math.min(bytes.length, at + Math.floor(random() * 200));
        const next = new Uint8Array(at + piece.length + bytes.length - cut);
        next.set(bytes.subarray(0, at));
        next.set(piece, at);
        next.set(bytes.subarray(cut), at + piece.length);
        bytes = next;
      } else {
        // A length or depth word: huge, negative or off by a little.
        const v = [0xffffffff, 0x7fffffff, 0x10000, 0x10001, 3][Math.floor(random() * 5)];
        if (at + 4 <= bytes.length) new DataView(bytes.buffer).setUint32(at, v, true);
      }
      if (bytes.length === 0) break;
    }
    return bytes;
  }

  it('10,000 cases each end in a document or ProfFormatError, with bounded work', () => {
    const random = prng(20261125);
    let documents = 0;
    let errors = 0;
    for (let i = 0; i < 10_000; i++) {
      const source = sources[i % sources.length];
      const bytes = mutate(random, source);
      const chunked = i % 10 === 0;
      let got: Outcome;
      try {
        got = outcome(() =>
          chunked ? readChunked(bytes, () => 1 + Math.floor(random() * 64)) : readVmprofDetailed(bytes),
        );
      } catch (e) {
        throw new Error(`case ${i} threw ${String(e)} (${bytes.length} bytes)`);
      }
      if ('error' in got) {
        errors++;
        expect(got.error.code).toMatch(/^[a-z0-9-]+$/);
        continue;
      }
      documents++;
      const { document: doc, recordCount } = got.result;
      // Each record consumes at least one byte, so work is bounded by the input's length.
      expect(recordCount).toBeLessThanOrEqual(bytes.length);
      expect(doc.samples.length).toBeLessThanOrEqual(bytes.length);
      assertDocument(doc);
    }
    expect(documents + errors).toBe(10_000);
    expect(documents).toBeGreaterThan(1000);
    expect(errors).toBeGreaterThan(100);
  });
});

function assertDocument(doc: ProfileDocument): void {
  assertIntegrity(doc);
  expect(doc.warnings.every((w) => typeof w.message === 'string' && /^[a-z0-9-]+$/.test(w.code))).toBe(true);
  expect(doc.samples.time.every(Number.isFinite)).toBe(true);
}

function samePrefix(part: ArrayLike<number>, whole: ArrayLike<number>): boolean {
  if (part.length > whole.length) return false;
  for (let i = 0; i < part.length; i++) if (part[i] !== whole[i]) return false;
  return true;
}
