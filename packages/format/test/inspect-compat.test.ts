import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { DocumentBuilder, emptyMeta, FrameKind } from '../src/index';
import { canonicalJson, compareCodePoints, PyFloat, pythonFloatRepr } from '../src/vmprof/compat-json';
import { defaultHashFactory, Sha256 } from '../src/vmprof/compat-sha256';
import { inspectFromResult, pythonIsoTime, pythonRound3 } from '../src/vmprof/inspect';
import type { VmprofReadResult, VmprofSymbolRecord } from '../src/vmprof/types';

const fixturesRoot = fixturesDir;

function expectedFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...expectedFiles(p));
    else if (entry.endsWith('.expected.json')) out.push(p);
  }
  return out;
}

/** Python's hash of a list of samples, from their canonical JSON (v7 `time` is a Python float). */
function samplesSha(samples: Record<string, unknown>[]): string {
  const h = createHash('sha256');
  for (const s of samples) {
    const copy: Record<string, unknown> = { ...s };
    if (typeof copy.time === 'number') copy.time = new PyFloat(copy.time);
    h.update(canonicalJson(copy) + '\n', 'utf8');
  }
  return h.digest('hex');
}

describe('Sha256', () => {
  it('equals node:crypto for every length around block boundaries and in uneven chunks', () => {
    const data = new Uint8Array(300);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    for (let len = 0; len <= data.length; len++) {
      const ours = new Sha256();
      const part = data.subarray(0, len);
      for (let i = 0; i < len; i += 1 + (i % 70)) ours.update(part.subarray(i, Math.min(len, i + 1 + (i % 70))));
      expect(ours.digest('hex')).toBe(createHash('sha256').update(part).digest('hex'));
    }
  });
});

describe('defaultHashFactory', () => {
  it('gives a working SHA-256 (node:crypto under Node, without importing it)', () => {
    const h = defaultHashFactory()();
    h.update(new TextEncoder().encode('abc'));
    expect(h.digest('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(h).not.toBeInstanceOf(Sha256);
  });
});

describe('Python compatibility helpers', () => {
  it('writes floats as Python repr does', () => {
    expect(pythonFloatRepr(1)).toBe('1.0');
    expect(pythonFloatRepr(-0)).toBe('-0.0');
    expect(pythonFloatRepr(451.370060965)).toBe('451.370060965');
    expect(pythonFloatRepr(451.38000000000005)).toBe('451.38000000000005');
    expect(pythonFloatRepr(0.0001)).toBe('0.0001');
    expect(pythonFloatRepr(0.00001)).toBe('1e-05');
    expect(pythonFloatRepr(1.5e-7)).toBe('1.5e-07');
    expect(pythonFloatRepr(1e16)).toBe('1e+16');
    expect(pythonFloatRepr(1.5e16)).toBe('1.5e+16');
    expect(pythonFloatRepr(123456789012345.6)).toBe('123456789012345.6');
    expect(pythonFloatRepr(1e22)).toBe('1e+22');
    expect(pythonFloatRepr(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
    expect(pythonFloatRepr(NaN)).toBe('NaN');
  });

  it('escapes strings as json.dumps(ensure_ascii=False) does', () => {
    expect(canonicalJson({ b: 'tab\there\n"q"\\ \u0000\u001f\u007f é 计算 😀', a: [1, null, true] })).toBe(
      '{"a":[1,null,true],"b":"tab\\there\\n\\"q\\"\\\\ \\u0000\\u001f\u007f é 计算 😀"}',
    );
  });

  it('orders strings by code point, not UTF-16 unit', () => {
    // U+1F600 (surrogates D83D DE00) sorts after U+FFFD by code point, before it by UTF-16 unit.
    expect(compareCodePoints('py:\u{1F600}', 'py:\uFFFD')).toBeGreaterThan(0);
    expect('py:\u{1F600}' < 'py:\uFFFD').toBe(true);
    expect(compareCodePoints('py:a', 'py:b')).toBeLessThan(0);
    expect(compareCodePoints('py:ab', 'py:a')).toBeGreaterThan(0);
    expect(compareCodePoints('n:<native symbol 0x1>:0:-', 'py:f:1:x.py')).toBeLessThan(0);
  });

  it('prints times as datetime.isoformat() + Z and rounds like Python', () => {
    expect(pythonIsoTime(1795627397823.892)).toBe('2026-11-25T17:23:17.823892Z');
    expect(pythonIsoTime(1684502384994)).toBe('2023-05-19T13:19:44.994000Z');
    expect(pythonIsoTime(1684502384000)).toBe('2023-05-19T13:19:44Z');
    expect(pythonIsoTime(null)).toBeNull();
    expect(pythonRound3(608566.1844)).toBe(608566.184);
    expect(pythonRound3(0.0625)).toBe(0.062);
    expect(pythonRound3(0.1875)).toBe(0.188);
  });
});

describe("canonical sample JSON reproduces the fixtures' samples_sha256", () => {
  for (const file of expectedFiles(fixturesRoot).filter((f) => f.includes('/vmprof'))) {
    const truth = JSON.parse(readFileSync(file, 'utf8'));
    for (const part of [truth, truth.low_level_reader].filter(Boolean)) {
      if (!part.samples || part.samples_truncated || part.samples.length !== part.sample_count) continue;
      it(`${file.slice(fixturesRoot.length + 1)}${part === truth ? '' : ' (low_level_reader)'}`, () => {
        expect(samplesSha(part.samples)).toBe(part.samples_sha256);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Hand-built read results: the tree, name and hashing rules without the binary reader.

interface Frame {
  address: string;
  kind?: FrameKind;
}

function buildResult(
  samples: { stack: Frame[]; lines?: number[]; thread?: string; memoryKb?: number }[],
  symbols: [string, string][],
  opts: { lines?: boolean; memory?: boolean; times?: number[]; version?: number } = {},
): VmprofReadResult {
  const b = new DocumentBuilder();
  for (const s of samples) {
    let parent = -1;
    s.stack.forEach((f, i) => {
      const kind = f.kind ?? FrameKind.Python;
      const frame = b.frame(`${f.address}/${kind}`, () => ({
        name: f.address,
        file: '',
        line: 0,
        kind,
        raw: f.address,
        address: f.address,
      }));
      parent = b.stack(parent, frame, s.lines?.[i] ?? 0);
    });
    const thread = b.thread(s.thread ?? '7');
    b.sample(parent, 0, thread, s.memoryKb !== undefined ? s.memoryKb * 1024 : undefined);
  }
  const meta = emptyMeta('vmprof');
  meta.interpreter = 'cpython';
  meta.periodUs = 1000;
  meta.startTime = 1795627397823.892;
  meta.vmprof = {
    version: opts.version ?? 6,
    wordSize: 8,
    addrSize: 8,
    modeByte: 0,
    memory: opts.memory ?? false,
    lines: opts.lines ?? false,
    native: false,
    rpython: false,
    realTime: false,
    gzipped: false,
    meta: { os: 'linux' },
  };
  const document = b.finish({ meta, timeEstimated: true, timeSource: 'period' });
  const records: VmprofSymbolRecord[] = symbols.map(([address, name], i) => ({
    address,
    name,
    invalidUtf8: false,
    offset: 1000 + i * 10,
    marker: 0x02,
  }));
  return {
    document,
    symbols: records,
    end: { offset: 5000, reason: 'eof' },
    rawSampleTimes: opts.times ? Float64Array.from(opts.times) : null,
    gcSampleCount: 0,
    objInfoCount: 0,
    recordCount: samples.length + symbols.length,
    cutName: null,
    // The reader notes the first sample with a negative line and its stack record's offset.
    negativeLine: negativeLineOf(samples),
  };
}

function negativeLineOf(samples: { lines?: number[] }[]): VmprofReadResult['negativeLine'] {
  const sample = samples.findIndex((s) => s.lines?.some((l) => l < 0));
  return sample < 0 ? null : { sample, offset: 2000 + sample * 100, line: samples[sample].lines!.find((l) => l < 0)! };
}

const A = { address: '0x10' };
const B = { address: '0x20' };
const C = { address: '0x30' };
const FIB = { address: '0x40' };
const ASM = { address: '0x50', kind: FrameKind.Asm };
const JIT_C = { address: '0x30', kind: FrameKind.Jit };
const NATIVE = { address: '0x61', kind: FrameKind.Native };

describe('inspectFromResult on hand-built profiles', () => {
  it("resolves names by vmprof's sort-and-dict rule and falls back to <unknown code>", () => {
    const r = buildResult(
      [{ stack: [A, B] }],
      [
        ['0x10', 'py:a:1:x.py'],
        ['0x10', 'n:<native symbol 0x10>:0:-'],
        ['0x20', 'py:\uFFFD:1:x.py'],
        ['0x20', 'py:\u{1F600}:1:x.py'],
      ],
    );
    const out = inspectFromResult(r);
    expect(out.samples[0].stack).toEqual(['py:a:1:x.py', 'py:\u{1F600}:1:x.py']);
    expect(out.symbol_count).toBe(2);
    expect(out.symbol_records).toBe(4);
    const unknown = inspectFromResult(buildResult([{ stack: [A, C] }], [['0x10', 'py:a:1:x.py']]));
    expect(unknown.samples[0].stack).toEqual(['py:a:1:x.py', '<unknown code>']);
  });

  it("builds vmprof's tree: recursion collapsed, asm and line-like entries skipped, JIT shares the node", () => {
    const names: [string, string][] = [
      ['0x10', 'py:<module>:1:m.py'],
      ['0x20', 'py:b:1:m.py'],
      ['0x30', 'py:c:1:m.py'],
      ['0x40', 'py:fib:1:m.py'],
      ['0x61', 'n:native:0:-'],
      ['-0x5', 'n:<native symbol 0x-5>:0:-'],
    ];
    const r = buildResult(
      [
        { stack: [A, FIB, FIB, FIB] }, // recursion collapses into one fib node
        { stack: [A, B, C, ASM, JIT_C] }, // asm skipped, JIT c equals the previous kept c
        { stack: [A, B, { address: '-0x5' }, C] }, // negative entry is taken for a line
        { stack: [A, B, NATIVE] },
        { stack: [] },
        { stack: [B, C], thread: '9' }, // another root hangs below the first root
      ],
      names,
    );
    const out = inspectFromResult(r);
    expect(out.tree_unfiltered_root).toEqual({ name: 'py:<module>:1:m.py', count: 6 });
    expect(out.tree_root).toEqual({ name: 'py:<module>:1:m.py', count: 6 });
    expect(out.functions).toEqual([
      { name: 'py:<module>:1:m.py', self: 1, total: 6 },
      { name: 'py:b:1:m.py', self: 0, total: 4 },
      { name: 'py:c:1:m.py', self: 3, total: 3 },
      // Ties on total and self sort by name: 'n' < 'p'.
      { name: 'n:native:0:-', self: 1, total: 1 },
      { name: 'py:fib:1:m.py', self: 1, total: 1 },
    ]);
    expect(out.thread_ids).toEqual([7, 9]);
    expect(out.samples[1].kinds).toEqual(['code', 'code', 'code', 'asm', 'jit']);
    expect(out.samples[0].kinds).toBeUndefined();
  });

  it('counts recursion through another function once in total', () => {
    const names: [string, string][] = [
      ['0x10', 'py:<module>:1:m.py'],
      ['0x20', 'py:even:1:m.py'],
      ['0x30', 'py:odd:1:m.py'],
    ];
    const out = inspectFromResult(buildResult([{ stack: [A, B, C, B, C] }, { stack: [A, B, C, B] }], names));
    expect(out.functions).toEqual([
      { name: 'py:even:1:m.py', self: 1, total: 2 },
      { name: 'py:odd:1:m.py', self: 1, total: 2 },
      { name: 'py:<module>:1:m.py', self: 0, total: 2 },
    ]);
  });

  it("filter_top follows the heaviest child to the first py:<module> that is not vmprof's __main__", () => {
    const names: [string, string][] = [
      ['0x10', 'py:_run_module_as_main:1:<frozen runpy>'],
      ['0x20', 'py:<module>:1:/x/vmprof/__main__.py'],
      ['0x30', 'py:<module>:1:app.py'],
      ['0x40', 'py:other:1:app.py'],
    ];
    const out = inspectFromResult(
      buildResult([{ stack: [A, B, C] }, { stack: [A, B, C, FIB] }, { stack: [A, FIB] }], names),
    );
    expect(out.tree_unfiltered_root).toEqual({ name: 'py:_run_module_as_main:1:<frozen runpy>', count: 3 });
    expect(out.tree_root).toEqual({ name: 'py:<module>:1:app.py', count: 2 });
    expect(out.functions.map((f) => [f.name, f.self, f.total])).toEqual([
      ['py:<module>:1:app.py', 1, 2],
      ['py:other:1:app.py', 1, 1],
    ]);
  });

  it('reports EmptyProfileFile without samples', () => {
    const out = inspectFromResult(buildResult([], [['0x10', 'py:a:1:x.py']], { version: 7, times: [] }));
    expect(out.tree_root).toBeNull();
    expect(out.tree_error).toBe('vmprof.stats.EmptyProfileFile');
    expect(out.tree_kind).toBe('cpu');
    expect(out.functions).toEqual([]);
    expect(out.samples_sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes samples exactly like canonical JSON of the listed samples (lines, kinds, time, memory, odd text)', () => {
    const names: [string, string][] = [
      ['0x10', 'py:<module>:1:m.py'],
      ['0x20', 'py:tab\there "q" \\ \u0001 é:1:dir with space/mödule:odd.py'],
      ['0x61', 'n:native:0:-'],
    ];
    const samples = [
      { stack: [A, B, NATIVE], lines: [3, -1, 0], memoryKb: 20596 },
      { stack: [A], lines: [4], memoryKb: 1869072 },
      { stack: [], memoryKb: 16 },
    ];
    const r = buildResult(samples, names, {
      lines: true,
      memory: true,
      version: 7,
      times: [451.0, 451.38000000000005, 1e-5],
    });
    const out = inspectFromResult(r);
    expect(out.samples[0]).toEqual({
      stack: ['py:<module>:1:m.py', names[1][1], 'n:native:0:-'],
      thread: 7,
      memory_kb: 20596,
      count: 1,
      lines: [3, -1, 0],
      kinds: ['code', 'code', 'native'],
      time: 451,
    });
    const h = createHash('sha256');
    for (const s of out.samples) h.update(canonicalJson({ ...s, time: new PyFloat(s.time!) }) + '\n');
    expect(out.samples_sha256).toBe(h.digest('hex'));
    expect(out.memory_kb_summary).toEqual({ min: 16, max: 1869072, first: 20596, last: 16 });
    expect(out.memory_summary).toEqual({ min_kb: 16, max_kb: 1869072, mean_kb: 629894.667 });
    expect(out.warnings?.map((w) => w.code)).toEqual(['negative-line']);
    // And the same with node:crypto plugged in.
    expect(inspectFromResult(r, undefined, { createHash: () => createHash('sha256') }).samples_sha256).toBe(
      out.samples_sha256,
    );
  });

  it('lists the first and last 2000 samples above 20,000 and sorts symbols by signed id', () => {
    const many = Array.from({ length: 20_001 }, (_, i) => ({ stack: [A], memoryKb: i }));
    const out = inspectFromResult(
      buildResult(
        many,
        [
          ['0x10', 'py:a:1:x.py'],
          ['-0x39', 'n:<native symbol 0x-39>:0:-'],
          ['0x2', 'n:x:0:-'],
        ],
        {
          memory: true,
        },
      ),
    );
    expect(out.samples_truncated).toEqual({ head: 2000, tail: 2000 });
    expect(out.samples).toHaveLength(4000);
    expect(out.samples[1999].memory_kb).toBe(1999);
    expect(out.samples[2000].memory_kb).toBe(18_001);
    expect(out.symbols?.map((s) => s[0])).toEqual(['-0x39', '0x2', '0x10']);
    const h = createHash('sha256');
    for (const [id, name] of out.symbols!) h.update(`${id}\t${name}\n`);
    expect(out.symbols_sha256).toBe(h.digest('hex'));
  });
});
