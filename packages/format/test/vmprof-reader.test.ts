import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameKind, parseVmprofName, readVmprof, readVmprofDetailed } from '../src/index';
import { assertIntegrity } from '../src/integrity';
import { fixtureBytes, fixturesRoot, sampleFrames } from './vmprof-helpers';
import { recordWithPypy } from './pypy-profile';

const fixture = (name: string) => fixtureBytes(join(fixturesRoot, name));
const rawNames = (doc: ReturnType<typeof readVmprof>, i: number) =>
  sampleFrames(doc, i).frames.map((f) => doc.strings[doc.frames.raw[f]]);

describe('name strings (format doc §7.3)', () => {
  it.each([
    ['py:leaf_sum:4:demo/workload.py', { language: 'py', name: 'leaf_sum', line: 4, file: 'demo/workload.py' }],
    [
      'py:has:colon name:37:demo/workload.py',
      { language: 'py', name: 'has:colon name', line: 37, file: 'demo/workload.py' },
    ],
    [
      'py:_run_code:64:c:\\Users\\x\\runpy.py',
      { language: 'py', name: '_run_code', line: 64, file: 'c:\\Users\\x\\runpy.py' },
    ],
    [
      'py:f:3:dir with space/mödule:odd.py',
      { language: 'py', name: 'f', line: 3, file: 'dir with space/mödule:odd.py' },
    ],
    ['py::9:empty.py', { language: 'py', name: '', line: 9, file: 'empty.py' }],
    ['py:empty_file_name:17:', { language: 'py', name: 'empty_file_name', line: 17, file: '' }],
    ['py:very_long_name_cut_by_vmprof', { language: 'py', name: 'very_long_name_cut_by_vmprof', line: 0, file: '' }],
    ['n:<native symbol 0x-4a>:0:-', { language: 'n', name: '<native symbol 0x-4a>', line: 0, file: '' }],
    ['n:deflate:0:libz.so.1', { language: 'n', name: 'deflate', line: 0, file: 'libz.so.1' }],
    ['<unknown code>', { language: '', name: '<unknown code>', line: 0, file: '' }],
  ])('%s', (raw, parsed) => {
    expect(parseVmprofName(raw)).toEqual(parsed);
  });
});

describe('document content', () => {
  it('v6 memory: RSS KiB × 1024 bytes, threads, frames named after reading, the hex example of the format doc', () => {
    const doc = readVmprof(fixture('vmprof/v6-cp311-memory.prof'));
    assertIntegrity(doc);
    expect(doc.samples.memory![0]).toBe(29388 * 1024);
    expect(doc.threads.id).toEqual(['11026680']);
    expect(rawNames(doc, 0)).toEqual([
      'py:<module>:1:<string>',
      'py:<module>:1:demo/launcher.py',
      'py:<module>:1:demo/main.py',
      'py:profile:7:demo/main.py',
      'py:run:18:demo/main.py',
      'py:memory_phase:47:demo/workload.py',
    ]);
    const leaf = sampleFrames(doc, 0).frames[5];
    expect(doc.strings[doc.frames.address[leaf]]).toBe('0x7f21cf2e7860');
    expect(doc.strings[doc.frames.name[leaf]]).toBe('memory_phase');
    expect(doc.strings[doc.frames.file[leaf]]).toBe('demo/workload.py');
    expect(doc.frames.line[leaf]).toBe(47);
    expect(doc.frames.kind[leaf]).toBe(FrameKind.Python);
    expect(doc.meta).toMatchObject({
      interpreter: 'cpython',
      periodUs: 500,
      zone: null,
      argv: null,
      host: null,
      source: 'vmprof',
    });
    expect(doc.meta.startTime).toBeCloseTo(1795627397823.892, 3);
    expect(doc.meta.vmprof).toMatchObject({
      version: 6,
      wordSize: 8,
      addrSize: 8,
      modeByte: 1,
      memory: true,
      lines: false,
      native: false,
      rpython: false,
      realTime: false,
      gzipped: false,
      meta: { os: 'linux', bits: '64' },
    });
  });

  it('lines mode: the executing line of every frame goes into the stack table', () => {
    const doc = readVmprof(fixture('vmprof/v6-cp311-lines.prof'));
    expect(sampleFrames(doc, 0).lines).toEqual([1, 14, 24, 11, 24, 74, 60, 11, 7]);
  });

  it('keeps the line -1 that CPython reports before a frame’s first instruction (vmprof’s read_profile fails on it)', () => {
    const doc = readVmprof(fixture('vmprof-fresh/lines_recursive_cli.prof'));
    expect(doc.samples.length).toBe(1504);
    expect(Array.from(doc.stacks.line).filter((l) => l === -1)).toHaveLength(1);
  });

  it('PyPy: JIT, assembler and native kinds, thread 0', () => {
    const doc = readVmprof(fixture('vmprof-fresh/pypy_jit.prof'));
    const kinds = new Set(Array.from(doc.frames.kind));
    expect(kinds).toEqual(new Set([FrameKind.Python, FrameKind.Jit, FrameKind.Asm, FrameKind.Native]));
    expect(doc.threads.id).toEqual(['0']);
    expect(doc.meta.vmprof?.rpython).toBe(true);
  });

  it('ids above 2^53 stay exact (2015 tagged code ids)', () => {
    const doc = readVmprof(fixture('vmprof/v0-wsgi-cpython-2015-07-21.prof'));
    const addresses = Array.from(doc.frames.address, (s) => doc.strings[s]);
    expect(addresses.some((a) => a.startsWith('0x7000') && a.length === 18)).toBe(true);
    const named = Array.from(doc.frames.raw, (s) => doc.strings[s]).filter((n) => n.startsWith('py:'));
    expect(named.length).toBeGreaterThan(10);
  });

  it('Windows: 4-byte words with 8-byte addresses, OS thread ids', () => {
    const doc = readVmprof(fixture('vmprof/v6-win64-multithread.prof'));
    expect(doc.meta.vmprof).toMatchObject({ wordSize: 4, addrSize: 8 });
    expect(doc.threads.id.slice().sort()).toEqual(['10880', '29504', '33472']);
  });

  it('32-bit writers: 4-byte words and addresses (a real file re-encoded record by record)', () => {
    const wide = fixture('vmprof/v6-cp311-memory.prof');
    const narrow = toWords32(wide);
    expect(narrow.length).toBeLessThan(wide.length * 0.7);
    const a = readVmprof(wide);
    const b = readVmprof(narrow);
    assertIntegrity(b);
    expect(b.meta.vmprof).toMatchObject({
      wordSize: 4,
      addrSize: 4,
      version: 6,
      memory: true,
      meta: a.meta.vmprof!.meta,
    });
    expect(b.warnings).toEqual([]);
    expect(b.samples.length).toBe(a.samples.length);
    for (let i = 0; i < a.samples.length; i++) expect(rawNames(b, i), `sample ${i}`).toEqual(rawNames(a, i));
    expect(b.samples.memory).toEqual(a.samples.memory);
    expect(b.threads.id).toEqual(a.threads.id);
    expect([b.meta.startTime, b.meta.endTime, b.meta.periodUs]).toEqual([
      a.meta.startTime,
      a.meta.endTime,
      a.meta.periodUs,
    ]);
  });

  it('stack entries are compared bit for bit with the previous sample: 0 and -2^63, NaN patterns', () => {
    const bytes = fixture('vmprof/v6-cp311-memory.prof').slice();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Root entries of the first two stack records (format doc §10: records at 124 and 205, depth 6).
    expect([bytes[124], bytes[205], dv.getBigInt64(133, true), dv.getBigInt64(214, true)]).toEqual([1, 1, 6n, 6n]);
    const roots = (first: bigint, second: bigint) => {
      dv.setBigInt64(124 + 17 + 5 * 8, first, true);
      dv.setBigInt64(205 + 17 + 5 * 8, second, true);
      const doc = readVmprof(bytes);
      return [0, 1].map((i) => doc.strings[doc.frames.address[sampleFrames(doc, i).frames[0]]]);
    };
    expect(roots(0n, -(2n ** 63n))).toEqual(['0x0', '-0x8000000000000000']); // +0.0 and -0.0 as doubles
    expect(roots(-(2n ** 63n), 0n)).toEqual(['-0x8000000000000000', '0x0']);
    expect(roots(0x7ff8000000000000n, 0x7ff8000000000000n)).toEqual(['0x7ff8000000000000', '0x7ff8000000000000']); // NaN bits
    expect(roots(0x7ff8000000000000n, 0x7ff8000000000001n)).toEqual(['0x7ff8000000000000', '0x7ff8000000000001']);
  });

  it('time zone: the zone field of the start time record, when a writer fills it', () => {
    const bytes = fixture('vmprof/v6-cp311-memory.prof').slice();
    expect(bytes[52]).toBe(0x06); // start time record; its zone field is bytes 69-76 (format doc §10)
    expect(readVmprof(bytes).meta.zone).toBeNull();
    bytes.set([0x43, 0x45, 0x54], 69); // "CET"
    expect(readVmprof(bytes).meta.zone).toBe('CET');
    bytes.set([0xff, 0x01], 69); // not a zone name: ignored, like vmprof does
    expect(readVmprof(bytes).meta.zone).toBeNull();
  });

  it('address reuse: Prof takes the last py: record, vmprof the largest string', () => {
    const result = readVmprofDetailed(fixture('vmprof-fresh/cpu_basic.prof'));
    const doc = result.document;
    let listcomp = 0;
    for (let i = 0; i < doc.samples.length; i++) {
      const names = rawNames(doc, i);
      const at = names.findIndex((n) => n.includes(':math_round:'));
      if (at >= 0 && at + 1 < names.length && names[at + 1].startsWith('py:<listcomp>:110:')) listcomp++;
    }
    expect(listcomp).toBe(7);
    expect(Array.from(doc.frames.raw, (s) => doc.strings[s]).some((n) => n.includes('ImpImporter'))).toBe(false);
  });
});

describe('time column (format doc §7.5)', () => {
  it('v7: recorded stamps minus start_time_offset', () => {
    const result = readVmprofDetailed(fixture('vmprof/v7-cpython-cpuburn.tsprof'));
    const { samples } = result.document;
    expect(samples.timeSource).toBe('recorded');
    expect(samples.timeEstimated).toBe(false);
    expect(samples.time[0]).toBeCloseTo((result.rawSampleTimes![0] - 451.359228) * 1000, 6);
    expect(samples.time[samples.length - 1]).toBeGreaterThan(samples.time[0]);
  });

  it('v6 with start and end: spread evenly, marked estimated', () => {
    const doc = readVmprof(fixture('vmprof/v6-cp311-memory.prof'));
    const n = doc.samples.length;
    const span = doc.meta.endTime! - doc.meta.startTime!;
    expect(doc.samples.timeSource).toBe('spread-start-end');
    expect(doc.samples.timeEstimated).toBe(true);
    expect(doc.samples.time[0]).toBeCloseTo((0.5 * span) / n, 9);
    expect(doc.samples.time[n - 1]).toBeCloseTo(((n - 0.5) * span) / n, 9);
  });

  it('killed process: index × effective period (CPU timer clamped to 4 ms)', () => {
    const doc = readVmprof(fixture('vmprof/v6-cp311-killed-no-trailer.prof'));
    expect(doc.meta.endTime).toBeNull();
    expect(doc.samples.timeSource).toBe('period');
    expect(doc.samples.time[10]).toBe(40);
  });

  it('GC-only v7 PyPy file: no CPU samples, GC and object records counted', () => {
    const result = readVmprofDetailed(fixture('vmprof/v7-pypy-gcbench-obj.prof'));
    expect(result.document.samples.length).toBe(0);
    expect(result.gcSampleCount).toBe(430);
    expect(result.objInfoCount).toBe(430);
  });
});

describe('profiles written now by Debian’s pypy3 (_vmprof built in)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prof-vmprof-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a memory profile of a small workload', () => {
    const out = recordWithPypy(dir, 'workload', 0.8);
    const result = readVmprofDetailed(new Uint8Array(readFileSync(out)));
    const doc = result.document;
    assertIntegrity(doc);
    expect(doc.warnings).toEqual([]);
    expect(result.end.reason).toBe('trailer');
    expect(doc.meta.interpreter).toBe('pypy');
    expect(doc.meta.vmprof).toMatchObject({ version: 6, memory: true, rpython: true });
    expect(doc.samples.length).toBeGreaterThan(0);
    const names = new Set(Array.from(doc.frames.name, (s) => doc.strings[s]));
    expect(names.has('prof_leaf') || names.has('prof_middle')).toBe(true);
    expect(names.has('prof_middle')).toBe(true);
    expect(doc.samples.memory).not.toBeNull();
    expect(Math.min(...doc.samples.memory!)).toBeGreaterThan(1024 * 1024);
  });
});

/**
 * A 64-bit v6 CPython file (memory mode, no lines, no PyPy pairs) re-encoded as a 32-bit writer
 * would have written it: every word and address 4 bytes. Addresses, too wide for 4 bytes, are
 * renumbered keeping their low (native) bit; thread ids and memory values fit as they are.
 */
function toWords32(src: Uint8Array): Uint8Array {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out: number[] = [];
  const word = (v: bigint) => {
    const b = new DataView(new ArrayBuffer(4));
    b.setInt32(0, Number(v), true);
    out.push(...new Uint8Array(b.buffer));
  };
  const ids = new Map<bigint, bigint>();
  const id = (v: bigint) => {
    if (!ids.has(v)) ids.set(v, 0x1000n + BigInt(ids.size) * 4n + (v & 1n));
    return ids.get(v)!;
  };
  const at = (o: number) => dv.getBigInt64(o, true);
  const copy = (from: number, n: number) => out.push(...src.subarray(from, from + n));
  for (const w of [0n, 3n, 0n, at(24), 0n]) word(w);
  let p = 40;
  while (p < src.length) {
    const marker = src[p];
    out.push(marker);
    if (marker === 0x05) {
      const size = 5 + src[p + 4];
      copy(p + 1, size - 1);
      p += size;
    } else if (marker === 0x06 || marker === 0x03) {
      copy(p + 1, 24);
      p += 25;
      if (marker === 0x03) break;
    } else if (marker === 0x07) {
      const k = Number(at(p + 1));
      const v = Number(at(p + 9 + k));
      word(BigInt(k));
      copy(p + 9, k);
      word(BigInt(v));
      copy(p + 17 + k, v);
      p += 17 + k + v;
    } else if (marker === 0x01) {
      const depth = Number(at(p + 9));
      word(at(p + 1));
      word(BigInt(depth));
      for (let i = 0; i < depth; i++) word(id(at(p + 17 + i * 8)));
      word(at(p + 17 + depth * 8)); // thread
      word(at(p + 25 + depth * 8)); // memory (KiB)
      p += 33 + depth * 8;
    } else if (marker === 0x02 || marker === 0x08) {
      const n = Number(at(p + 9));
      word(id(at(p + 1)));
      word(BigInt(n));
      copy(p + 17, n);
      p += 17 + n;
    } else {
      throw new Error(`toWords32: unexpected marker ${marker} at ${p}`);
    }
  }
  return Uint8Array.from(out);
}
