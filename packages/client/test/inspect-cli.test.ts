/**
 * The real `prof inspect --json` command (dist/cli.js in a child process) against vmprof's own
 * reader: every `NAME.expected.json` under `fixtures/vmprof*`, found at run time, field
 * by field; where vmprof's reader fails, Prof reads more and names the byte offset. The comparison
 * rules are format's (packages/format/test/inspect-truth.ts), shared with its library-level test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectBetterThanVmprof,
  expectNothingReadable,
  expectSameAsVmprof,
  loadProfile,
  truthCases,
} from '../../format/test/inspect-truth';
import { fixturesDir, runProf as prof, tempDir } from './helpers';

describe("prof inspect --json reproduces vmprof's reader on every fixture", () => {
  const cases = truthCases();
  it('finds the fixtures', () => {
    expect(cases.length).toBeGreaterThan(40);
  });

  for (const { label, truthPath, profile, truth } of cases) {
    it(`${label}${truth.error ? ` (vmprof fails: ${String(truth.error).slice(0, 50)})` : ''}`, async () => {
      expect(profile, `no profile beside ${truthPath}`).not.toBeNull();
      const run = await prof(['inspect', '--json', profile!]);
      const out = JSON.parse(run.stdout);
      if (!truth.error) {
        expect(run.code, run.stderr).toBe(0);
        expectSameAsVmprof(truth, out);
        return;
      }
      if (run.code === 0) {
        expectBetterThanVmprof(truth, out, loadProfile(profile!));
        return;
      }
      // Nothing readable: exit code 3 (input), the typed error as JSON, and a message naming the byte.
      expect(run.code, run.stderr).toBe(3);
      expect(out.error.code).toMatch(/^format:/);
      expectNothingReadable(truth, out.error);
      expect(run.stderr).toMatch(/at byte \d+/);
    });
  }
});

describe('prof inspect (readable summary)', () => {
  const fixture = (rel: string) => join(fixturesDir, rel);

  it('names format, interpreter, duration, samples, threads, memory and the top functions', async () => {
    const run = await prof(['inspect', fixture('vmprof/v6-cp311-memory.prof')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^format +vmprof version 6, 64-bit \(8-byte words, 8-byte addresses\); memory$/m);
    expect(run.stdout).toMatch(/^interpreter +cpython$/m);
    expect(run.stdout).toMatch(/^start +2026-11-25 17:23:17\.823 UTC$/m);
    expect(run.stdout).toMatch(/^samples +243 \(times estimated/m);
    expect(run.stdout).toMatch(/^threads +1 \(11026680\)$/m);
    expect(run.stdout).toMatch(/^memory +peak 2\d\d MiB/m);
    expect(run.stdout).toMatch(/^ +100\.0% +0\.0% +<module> +<string>:1$/m);
    expect(run.stdout).toMatch(/memory_phase +demo\/workload\.py:47$/m);
    expect(run.stdout).not.toMatch(/warnings/);
  });

  it('lists warnings with their byte offsets and still exits 0', async () => {
    const run = await prof(['inspect', fixture('vmprof/bad/truncated-mid-stack.prof')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^samples +2 /m);
    expect(run.stdout).toMatch(/^ {2}truncated at byte 286: profile is cut short/m);
  });

  it('shows hostile names as text: control and bidi characters escaped', async () => {
    const run = await prof(['inspect', '--top', '40', fixture('vmprof-fresh/unicode_and_hostile.prof')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('\\u{202e}evil_rtl_override');
    expect(run.stdout).toContain('zero\\u{200b}width\\u{200d}joiner');
    expect(run.stdout).toContain('new\\u{a}line');
    // Nothing a terminal would act on: no C0/C1 controls but newline, no bidi or zero-width marks.
    expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
  });

  it('reads V8 profiles and Prof documents too; --json stays vmprof-only', async () => {
    const dir = tempDir('prof-inspect-');
    try {
      // A real V8 profile of a real Node process.
      const work = 'let x = 0; const t = Date.now(); while (Date.now() - t < 300) x += Math.sqrt(x + 1);';
      const node = spawnSync(process.execPath, [
        '--cpu-prof',
        '--cpu-prof-dir',
        dir.path,
        '--cpu-prof-name',
        'burn.cpuprofile',
        '-e',
        work,
      ]);
      expect(node.status).toBe(0);
      const cpuprofile = join(dir.path, 'burn.cpuprofile');
      const v8 = await prof(['inspect', cpuprofile]);
      expect(v8.code, v8.stderr).toBe(0);
      expect(v8.stdout).toMatch(/^format +V8 CPU profile$/m);
      expect(v8.stdout).toMatch(/^top functions by total \(weighted\)/m);
      const v8json = await prof(['inspect', '--json', cpuprofile]);
      expect(v8json.code).toBe(3);
      expect(JSON.parse(v8json.stdout).error.code).toBe('format:not-vmprof');

      const converted = join(dir.path, 'memory.msgpack.gz');
      expect((await prof(['convert', fixture('vmprof/v6-cp311-memory.prof'), '-o', converted])).code).toBe(0);
      const doc = await prof(['inspect', converted]);
      expect(doc.code, doc.stderr).toBe(0);
      expect(doc.stdout).toMatch(/^format +Prof document \(schema \d+, gzipped\) of a vmprof version 6/m);
      expect(doc.stdout).toMatch(/^samples +243 /m);
    } finally {
      dir.remove();
    }
  });

  it('exit codes: 2 without a file, 3 for a missing file or one that is not a profile', async () => {
    const none = await prof(['inspect']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no file given/);
    const missing = await prof(['inspect', fixture('vmprof/no-such-file.prof')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/ENOENT/);
    const random = await prof(['inspect', fixture('vmprof/bad/random-4k.prof')]);
    expect(random.code).toBe(3);
    expect(random.stderr).toMatch(/not a profile .* at byte 0/);
    const bigEndian = await prof(['inspect', fixture('vmprof/bad/big-endian-header.prof')]);
    expect(bigEndian.code).toBe(3);
    expect(bigEndian.stderr).toMatch(/big-endian.* at byte 8/);
    expect(existsSync(fixture('vmprof/no-such-file.prof'))).toBe(false);
  });
});
