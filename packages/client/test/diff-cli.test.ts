// `prof diff` (the built CLI, a child process) against a real apps/server on real vmprof files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  built,
  clientCli,
  closedPortUrl,
  fixturesDir,
  runProf,
  serverCli,
  startProfServer,
  type ProfServer,
} from './helpers';

let server: ProfServer;
const ids: Record<string, string> = {};

beforeAll(async () => {
  if (!built(serverCli) || !built(clientCli))
    throw new Error(`build first: ${serverCli} and ${clientCli} are missing (npm test builds them)`);
  server = await startProfServer(['--no-demos']);
  for (const name of ['cpu_basic', 'memory_spiky']) {
    const r = await fetch(`${server.url}/api/profiles?project=diff&name=${name}`, {
      method: 'POST',
      body: readFileSync(join(fixturesDir, `vmprof-fresh/${name}.prof`)),
    });
    expect(r.status).toBe(201);
    ids[name] = ((await r.json()) as { id: string }).id;
  }
});

afterAll(async () => {
  await server?.stop();
});

async function compareApi(base: string, target: string): Promise<any> {
  const r = await fetch(`${server.url}/api/compare/functions?base=${base}&target=${target}&top=100000`);
  expect(r.status).toBe(200);
  return r.json();
}

describe('prof diff', () => {
  it('prints the top changes as a table, one-sided functions marked', async () => {
    const { code, stdout, stderr } = await runProf([
      'diff',
      ids.cpu_basic,
      ids.memory_spiky,
      '--server',
      server.url,
      '--top',
      '5',
    ]);
    expect([code, stderr]).toEqual([0, '']);
    const api = await compareApi(ids.cpu_basic, ids.memory_spiky);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^total time, share of each run/);
    expect(lines[1]).toMatch(/change\s+base\s+target\s+samples\s+function/);
    const body = lines.slice(2, 7);
    expect(body.length).toBe(5);
    // The server's rows in its order, each with its change in percentage points and both sample counts.
    api.functions.slice(0, 5).forEach((f: any, i: number) => {
      const sign = f.deltaShare.total > 0 ? '+' : f.deltaShare.total < 0 ? '−' : ' ';
      expect(body[i]).toContain(`${sign}${Math.abs(f.deltaShare.total * 100).toFixed(1)}`);
      expect(body[i]).toContain(`${f.base.total.toLocaleString('en-US')} → ${f.target.total.toLocaleString('en-US')}`);
      expect(body[i]).toContain(f.name);
      if (f.added) expect(body[i]).toContain('(added)');
      if (f.removed) expect(body[i]).toContain('(removed)');
    });
    expect(body.some((l) => /\((added|removed)\)/.test(l))).toBe(true);
    expect(lines[7]).toBe(`… ${api.count - 5} more functions (--top)`);
  });

  it('--json gives the server rows, ranked by --sort, and accepts profile URLs', async () => {
    const { code, stdout } = await runProf([
      'diff',
      `${server.url}/profiles/${ids.memory_spiky}`,
      `${server.url}/profiles/${ids.memory_spiky}?tab=cpu`,
      '--json',
      '--top',
      '3',
    ]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.functions.length).toBe(3);
    expect(out.functions.every((f: any) => f.deltaShare.total === 0 && !f.added && !f.removed)).toBe(true);

    const bySelf = JSON.parse(
      (
        await runProf([
          'diff',
          ids.cpu_basic,
          ids.memory_spiky,
          '-s',
          server.url,
          '--json',
          '--sort',
          'self',
          '--top',
          '4',
        ])
      ).stdout,
    );
    const api = await compareApi(ids.cpu_basic, ids.memory_spiky);
    const expected = [...api.functions]
      .sort((a, b) => Math.abs(b.deltaShare.self) - Math.abs(a.deltaShare.self))
      .slice(0, 4);
    expect(bySelf.functions).toEqual(expected);
  });

  it('--by growth compares the memory gained under each function', async () => {
    const { code, stdout } = await runProf([
      'diff',
      ids.memory_spiky,
      ids.memory_spiky,
      '-s',
      server.url,
      '--by',
      'growth',
      '--top',
      '3',
    ]);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^total memory growth, share of each run/);
    expect(lines[1]).toMatch(/change\s+base\s+target\s+grown\s+function/);
    const api = await (
      await fetch(
        `${server.url}/api/compare/functions?base=${ids.memory_spiky}&target=${ids.memory_spiky}&weight=growth`,
      )
    ).json();
    expect(api.unit).toBe('bytes');
    expect(lines[2]).toContain(api.functions[0].name);
    expect(lines[2]).toMatch(/ [\d.]+ [kMG]B → [\d.]+ [kMG]B /);
    const bad = await runProf(['diff', ids.cpu_basic, ids.cpu_basic, '-s', server.url, '--by', 'heap']);
    expect([bad.code, bad.stderr]).toEqual([2, 'prof diff: --by "heap": expected cpu or growth\n']);
  });

  it('exits with the documented codes: usage 2, unreachable 4, refused 5', async () => {
    const usage = await runProf(['diff', 'nope', ids.cpu_basic, '--server', server.url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/base "nope" is neither a profile id/);
    const top = await runProf(['diff', ids.cpu_basic, ids.cpu_basic, '--server', server.url, '--top', '0']);
    expect([top.code, top.stderr]).toEqual([2, 'prof diff: --top "0" is not a positive integer\n']);
    const down = await runProf(['diff', ids.cpu_basic, ids.cpu_basic, '--server', await closedPortUrl()]);
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/cannot reach/);
    const missing = await runProf(['diff', ids.cpu_basic, 'a'.repeat(24), '--server', server.url, '--json']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/404: target: no profile with id a{24}/);
    expect(JSON.parse(missing.stdout).error.code).toBe('rejected:not-found');
    const noMemoryRange = await runProf([
      'diff',
      ids.cpu_basic,
      ids.cpu_basic,
      '--server',
      server.url,
      '--base-from',
      '50',
      '--base-to',
      '10',
    ]);
    expect(noMemoryRange.code).toBe(5);
    expect(noMemoryRange.stderr).toMatch(/base: the window is empty/);
  });
});
