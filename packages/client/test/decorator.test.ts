import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gunzipDocument } from '@prof/format/node';
import { flushProfiles, pendingDeliveries, profile, type DeliveryOutcome, type ProfileOptions } from '../src/index';
import { DEFAULT_MEMORY_INTERVAL_MS, samplerFor } from '../src/decorator/profile';
import { listSpool } from '../src/spool/spool-dir';
import ts from 'typescript';
import { closedPortUrl, cpuSpent, spinUntil, tempDir } from './helpers';

/** Compiles a snippet with TypeScript 5 standard decorators and runs it with `profile` in scope. */
function decorated<T>(body: string): T {
  const js = ts.transpileModule(body, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None, experimentalDecorators: false },
  }).outputText;
  return new Function('profile', 'options', 'spin', js)(profile, opts, spin) as T;
}

function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

let spool: ReturnType<typeof tempDir>;
let down: string;
let outcomes: DeliveryOutcome[];
let opts: ProfileOptions;

beforeAll(async () => {
  spool = tempDir('prof-decorator-');
  down = await closedPortUrl();
  // What a bare `@profile` (no options) falls back to: never the user's real ~/.prof/spool.
  process.env.PROF_SPOOL = spool.path;
  process.env.PROF_SERVER = down;
});
afterAll(() => {
  delete process.env.PROF_SPOOL;
  delete process.env.PROF_SERVER;
  spool.remove();
});
beforeEach(() => {
  outcomes = [];
  opts = {
    server: down,
    spoolDir: spool.path,
    project: 'client-test',
    quiet: true,
    onDelivered: (o) => outcomes.push(o),
  };
});

describe('profile(fn): the program sees exactly what it would without it', () => {
  it('keeps a sync function sync, with its this, arguments and result', async () => {
    const add = profile(function add(this: { k: number }, a: number, b: number) {
      spin(5);
      return this.k + a + b;
    }, opts);
    const r = add.call({ k: 1 }, 2, 3);
    expect(r).toBe(6); // a number, not a promise
    expect(add.name).toBe('add');
    expect(add.length).toBe(2);
    await flushProfiles();
    expect(outcomes).toMatchObject([{ status: 'spooled', name: 'add' }]);
  });

  it('rethrows the very same exception of a sync function and still records the call', async () => {
    const boom = new TypeError('boom');
    const f = profile(function fails() {
      spin(2);
      throw boom;
    }, opts);
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(boom);
    await flushProfiles();
    expect(outcomes.map((o) => o.name)).toEqual(['fails']);
  });

  it('resolves an async function to its value and rejects with its own error', async () => {
    const ok = profile(
      async (x: number) => {
        await new Promise((r) => setTimeout(r, 10));
        return { x };
      },
      { ...opts, name: 'asyncOk' },
    );
    const value = ok(4);
    expect(value).toBeInstanceOf(Promise);
    expect(await value).toEqual({ x: 4 });
    const err = new Error('async boom');
    const bad = profile(
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        throw err;
      },
      { ...opts, name: 'asyncBad' },
    );
    await expect(bad()).rejects.toBe(err);
    await flushProfiles();
    expect(outcomes.map((o) => o.name).sort()).toEqual(['asyncBad', 'asyncOk']);
  });

  it('decorates methods (instance and static) and names them Class.method', async () => {
    // Compiled by TypeScript itself (standard decorators), as users' code is: the test runner's
    // own transform does not lower decorators.
    const Calc = decorated<{ new (base: number): { run(x: number): number }; twice(x: number): number }>(
      `class Calc {
        constructor(base) { this.base = base; }
        @profile(options)
        run(x: number): number { spin(3); return this.base + x; }
        @profile
        static twice(x: number): number { return 2 * x; }
      }
      return Calc;`,
    );
    expect(new Calc(10).run(5)).toBe(15);
    expect(Calc.twice(21)).toBe(42);
    await flushProfiles();
    expect(outcomes.map((x) => x.name)).toEqual(['Calc.run']);
    // The bare decorator has no callback: its profile is found in the spool named by PROF_SPOOL.
    expect(listSpool(spool.path).entries.map((e) => e.meta.name)).toContain('Calc.twice');
  });

  it('records a profiled call inside another once, as the outer call (sync and async)', async () => {
    const inner = profile(function inner(n: number) {
      spin(2);
      return n + 1;
    }, opts);
    const outer = profile(function outer() {
      return inner(inner(1));
    }, opts);
    expect(outer()).toBe(3);
    const innerAsync = profile(async function innerAsync() {
      await new Promise((r) => setTimeout(r, 2));
      return 1;
    }, opts);
    const outerAsync = profile(async function outerAsync() {
      return (await innerAsync()) + (await innerAsync());
    }, opts);
    expect(await outerAsync()).toBe(2);
    await flushProfiles();
    expect(outcomes.map((o) => o.name).sort()).toEqual(['outer', 'outerAsync']);
  });

  it('gives concurrent async calls a profile each', async () => {
    const job = profile(async function job(ms: number) {
      await new Promise((r) => setTimeout(r, ms));
      spin(3);
      return ms;
    }, opts);
    expect(await Promise.all([job(20), job(10), job(15)])).toEqual([20, 10, 15]);
    await flushProfiles();
    expect(outcomes.map((o) => o.name)).toEqual(['job', 'job', 'job']);
  });

  it('records nothing when disabled by option or by PROF_DISABLE', async () => {
    const off = profile(() => 1, { ...opts, enabled: false });
    expect(off()).toBe(1);
    process.env.PROF_DISABLE = '1';
    try {
      const env = profile(() => 2, opts);
      expect(env()).toBe(2);
    } finally {
      delete process.env.PROF_DISABLE;
    }
    expect(pendingDeliveries()).toBe(0);
    await flushProfiles();
    expect(outcomes).toEqual([]);
  });
});

describe('a server that is down', () => {
  it('never reaches the program: the profile is spooled with its memory series', async () => {
    const hold: Buffer[] = [];
    const sampler = samplerFor(DEFAULT_MEMORY_INTERVAL_MS);
    const work = profile(
      function allocates() {
        // Busy before the allocation too, so CPU samples see the low memory first.
        const before = sampler.readingsTaken();
        const busyBefore = cpuSpent(20);
        spinUntil(
          () => sampler.readingsTaken() >= before + 2 && busyBefore(),
          'two memory readings and 20 ms of CPU before the allocation',
        );
        for (let i = 0; i < 40; i++) hold.push(Buffer.alloc(1 << 20, 7));
        // Hold the 40 MB until the sampler has provably measured it: readings after the allocation
        // (and the CPU samples between them, 1 ms apart) carry it into the document.
        const seen = sampler.readingsTaken();
        const busyAfter = cpuSpent(30);
        spinUntil(
          () => sampler.readingsTaken() >= seen + 3 && busyAfter(),
          'three memory readings and 30 ms of CPU after the allocation',
        );
        return hold.length;
      },
      { ...opts, tags: { run: 'down' } },
    );
    expect(work()).toBe(40);
    await flushProfiles();
    expect(outcomes).toHaveLength(1);
    const outcome = outcomes[0];
    expect(outcome.status).toBe('spooled');
    if (outcome.status !== 'spooled') return;
    expect(outcome.reason).toMatch(/cannot reach/);
    const entry = listSpool(spool.path).entries.find((e) => e.dataPath === outcome.path)!;
    expect(entry.meta).toMatchObject({
      server: down,
      project: 'client-test',
      name: 'allocates',
      tags: { run: 'down' },
    });
    const doc = await gunzipDocument(readFileSync(entry.dataPath));
    expect(doc.meta).toMatchObject({ project: 'client-test', name: 'allocates', tags: { run: 'down' } });
    expect(doc.samples.length).toBeGreaterThan(2);
    const memory = doc.samples.memory!;
    expect(memory).not.toBeNull();
    expect(Math.max(...memory) - Math.min(...memory)).toBeGreaterThan(20 * (1 << 20));
    expect(doc.strings).toContain('allocates');
  });
});
