// @prof/client as a user gets it: `pnpm pack` of it and its workspace dependencies, `npm install`
// of the tarballs outside the workspace, plain Node ESM through the public entry, and the `prof` bin.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectPublishable, packedInstall } from '../../../scripts/pack-install';
import { fixturesDir } from './helpers';

describe('@prof/client, packed and installed with npm', () => {
  const scratch = packedInstall(['format', 'binning', 'client']);

  it('is publishable as it is', () => {
    expectPublishable(scratch(), '@prof/client');
    expect(scratch().manifest('@prof/client').bin).toEqual({ prof: './dist/cli.js' });
  });

  it('exports profile() from plain Node ESM; a profiled call returns its result without a server', () => {
    const run = scratch().run(`
      import { profile, flushProfiles } from '@prof/client';
      const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));
      const profiled = profile(fib, { project: 'pack-test', server: 'http://127.0.0.1:9', spoolDir: process.argv[2] ?? 'spool' });
      console.log(JSON.stringify({ type: typeof profile, result: await profiled(20) }));
      await flushProfiles();
    `);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n')[0])).toEqual({ type: 'function', result: 6765 });
  });

  it('the README opens with an example that runs as written, spooling when no server answers', () => {
    const spool = join(scratch().dir, 'readme-spool');
    const run = scratch().runReadmeExample('@prof/client', [], {
      PROF_SERVER: 'http://127.0.0.1:9',
      PROF_SPOOL: spool,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\{ n: 27, fib: 196418 \}$/m);
    expect(readdirSync(spool).filter((f) => f.endsWith('.msgpack.gz'))).toHaveLength(1);
  });

  it('installs the prof bin, which inspects a profile', () => {
    const bin = join(scratch().dir, 'node_modules/.bin/prof');
    const run = spawnSync(bin, ['inspect', join(fixturesDir, 'vmprof/v6-cp311-cpu.prof')], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^samples +375\b/m);
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/inspect/);
    expect(help.stdout).toMatch(/convert/);
  });
});
