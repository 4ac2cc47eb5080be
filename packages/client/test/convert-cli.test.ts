// `prof convert`, the built CLI in a child process, on real fixtures.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gunzipDocument, readProfileFile } from '@prof/format/node';
import { clientCli, fixturesDir, runProf as prof, tempDir } from './helpers';

const scratch = tempDir('prof-convert-');
afterAll(() => scratch.remove());
const fixture = (rel: string) => join(fixturesDir, rel);

describe('prof convert', () => {
  it('writes FILE.msgpack.gz beside the input: the same document as reading the profile', async () => {
    const input = join(scratch.path, 'memory.prof');
    copyFileSync(fixture('vmprof/v6-cp311-memory.prof'), input);
    const run = await prof(['convert', input]);
    expect(run.code, run.stderr).toBe(0);
    const output = join(scratch.path, 'memory.msgpack.gz');
    expect(run.stdout).toMatch(
      /^.*memory\.prof \(25\.4 kB\) -> .*memory\.msgpack\.gz \([\d.]+ kB, [\d.]+x smaller\): 243 samples in /,
    );
    const decoded = await gunzipDocument(readFileSync(output));
    expect(decoded).toEqual(await readProfileFile(input));
    expect(statSync(output).mode & 0o777).toBe(0o644);
    expect(readdirSync(scratch.path).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('--json reports sizes, samples and the warnings of a cut-short file (gzipped input)', async () => {
    const output = join(scratch.path, 'cut.msgpack.gz');
    const input = fixture('vmprof/bad/truncated-gzip.prof.gz');
    const run = await prof(['convert', '--json', input, '-o', output]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.input).toEqual({ path: input, bytes: statSync(input).size });
    expect(report.output).toEqual({ path: output, bytes: statSync(output).size });
    expect(report.samples).toBe(162);
    expect(report.warnings.map((w: { code: string; offset: number }) => `${w.code}@${w.offset}`)).toEqual([
      'truncated@15862',
      'truncated-gzip@15877',
    ]);
    expect((await gunzipDocument(readFileSync(output))).samples.length).toBe(162);
  });

  it('names warnings with their byte offsets on stderr', async () => {
    const run = await prof([
      'convert',
      fixture('vmprof/bad/truncated-mid-stack.prof'),
      '-o',
      join(scratch.path, 'mid.msgpack.gz'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^prof convert: warning: truncated at byte 286: /m);
  });

  it('shows a progress bar on a terminal for a big file', () => {
    // `script` gives the CLI a real pseudo-terminal; the bar goes to stderr, which it captures.
    const output = join(scratch.path, 'big.msgpack.gz');
    const cmd = [process.execPath, clientCli, 'convert', fixture('vmprof-fresh/big_memory.prof'), '-o', output]
      .map((a) => `'${a}'`)
      .join(' ');
    const run = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/convert .* 0% \| 0\.0\/62\.6 MB \| big_memory\.prof/);
    expect(run.stdout).toMatch(/100% \| 62\.6\/62\.6 MB/);
    expect(run.stdout).toMatch(
      /big_memory\.prof \(62\.6 MB\) -> .*big\.msgpack\.gz \([\d.]+ kB, \d+x smaller\): 318,694 samples/,
    );
    expect(statSync(output).size).toBeLessThan(500_000);
  });

  it('exit codes: 2 for usage, 3 for unreadable input, 6 when the output cannot be written', async () => {
    expect((await prof(['convert'])).code).toBe(2);
    const self = join(scratch.path, 'doc.msgpack.gz');
    copyFileSync(fixture('vmprof/v6-cp311-memory.prof'), self); // refused before it is read
    const overwrite = await prof(['convert', self]);
    expect(overwrite.code).toBe(2);
    expect(overwrite.stderr).toMatch(/would overwrite the input/);
    const bad = await prof([
      'convert',
      '--json',
      fixture('vmprof/bad/absurd-stack-depth.prof'),
      '-o',
      join(scratch.path, 'x.msgpack.gz'),
    ]);
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'format:depth-out-of-range', offset: 133, exitCode: 3 });
    expect(existsSync(join(scratch.path, 'x.msgpack.gz'))).toBe(false);

    const missing = await prof([
      'convert',
      fixture('vmprof/v6-cp311-cpu.prof'),
      '-o',
      join(scratch.path, 'no-dir', 'cpu.msgpack.gz'),
    ]);
    expect(missing.code).toBe(6);
    expect(missing.stderr).toMatch(/cannot write the output: ENOENT/);
  });
});
