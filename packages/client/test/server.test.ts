// End to end against the real apps/server (a child process on a random port) and the built `prof` CLI.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipDocument, readProfileFile } from '@prof/format/node';
import { documentSummary, type ProfileDocument } from '@prof/format';
import { flushProfiles, profile, type DeliveryOutcome } from '../src/index';
import { DEFAULT_MEMORY_INTERVAL_MS, samplerFor } from '../src/decorator/profile';
import { listSpool } from '../src/spool/spool-dir';
import { CLIENT_PRODUCER } from '../src/producer';
import {
  built,
  clientCli,
  clientDist,
  closedPortUrl,
  fixturesDir,
  serverCli,
  startProfServer,
  startRawServer,
  tempDir,
  type ProfServer,
  cpuSpent,
  spinUntil,
} from './helpers';

/** Who stamps the client's documents: this package, at the version its package.json says. */
const CLIENT = {
  name: '@prof/client',
  version: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
};
it('stamps the producer of its package.json', () => expect(CLIENT_PRODUCER).toEqual(CLIENT));

// The built server and CLI are what users run; the test command builds them first.
const ready = built(serverCli) && built(clientCli);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const prof = (args: string[], env: Record<string, string> = {}): Promise<Ran> => runNode([clientCli, ...args], env);

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  return (await r.json()) as T;
}

async function fetchDocument(server: string, id: string): Promise<ProfileDocument> {
  const r = await fetch(`${server}/api/profiles/${id}/document`);
  expect(r.status).toBe(200);
  // fetch inflates Content-Encoding: gzip itself; gzip again to use the one guarded decoder.
  const { gzipSync } = await import('node:zlib');
  return gunzipDocument(gzipSync(new Uint8Array(await r.arrayBuffer())));
}

interface Row {
  id: string;
  project: string;
  name: string;
  tags: Record<string, string>;
  hasMemory: boolean;
  durationMs: number;
}

async function rows(server: string, project: string): Promise<Row[]> {
  return (await getJson<{ items: Row[] }>(`${server}/api/profiles?project=${encodeURIComponent(project)}&limit=1000`))
    .items;
}

describe('with a real Prof server', () => {
  let server: ProfServer;
  const dirs: { remove(): void }[] = [];
  const scratch = (): string => {
    const d = tempDir('prof-client-e2e-');
    dirs.push(d);
    return d.path;
  };

  beforeAll(async () => {
    if (!ready) throw new Error(`build first: ${serverCli} and ${clientCli} are missing (npm test builds them)`);
    server = await startProfServer(['--no-demos']);
  });
  afterAll(async () => {
    await server?.stop();
    for (const d of dirs) d.remove();
  });

  describe('the decorator', () => {
    it('uploads sync, async, throwing and method calls, named and tagged, with memory', async () => {
      const outcomes: DeliveryOutcome[] = [];
      const opts = {
        server: server.url,
        project: 'decorated',
        tags: { suite: 'e2e' },
        spoolDir: scratch(),
        onDelivered: (o: DeliveryOutcome) => outcomes.push(o),
      };
      const hold: Buffer[] = [];
      const sampler = samplerFor(DEFAULT_MEMORY_INTERVAL_MS);
      const syncWork = profile(function syncWork(n: number) {
        // A reading before and readings after the 40 MB, whatever the scheduler did with the sampler's thread.
        const before = sampler.readingsTaken();
        const busyBefore = cpuSpent(20);
        spinUntil(
          () => sampler.readingsTaken() >= before + 2 && busyBefore(),
          'two memory readings and 20 ms of CPU before the allocation',
        );
        for (let i = 0; i < 40; i++) hold.push(Buffer.alloc(1 << 20, n));
        const seen = sampler.readingsTaken();
        const busyAfter = cpuSpent(30);
        spinUntil(
          () => sampler.readingsTaken() >= seen + 3 && busyAfter(),
          'three memory readings and 30 ms of CPU after the allocation',
        );
        return hold.length;
      }, opts);
      const asyncWork = profile(async function asyncWork() {
        await new Promise((r) => setTimeout(r, 20));
        return 'done';
      }, opts);
      const err = new RangeError('nope');
      const throwing = profile(function throwing() {
        throw err;
      }, opts);
      class Service {
        handle = profile(
          function handle(this: Service, x: number) {
            return x * 2;
          },
          { ...opts, name: 'Service.handle' },
        );
      }

      expect(syncWork(1)).toBe(40);
      expect(await asyncWork()).toBe('done');
      expect(() => throwing()).toThrow(err);
      expect(new Service().handle(21)).toBe(42);
      await flushProfiles(30_000);

      expect(outcomes.map((o) => [o.status, o.name]).sort()).toEqual([
        ['uploaded', 'Service.handle'],
        ['uploaded', 'asyncWork'],
        ['uploaded', 'syncWork'],
        ['uploaded', 'throwing'],
      ]);
      const listed = await rows(server.url, 'decorated');
      expect(listed.map((r) => r.name).sort()).toEqual(['Service.handle', 'asyncWork', 'syncWork', 'throwing']);
      expect(listed.every((r) => r.tags.suite === 'e2e')).toBe(true);

      const sync = outcomes.find((o) => o.name === 'syncWork')!;
      if (sync.status !== 'uploaded') throw new Error('not uploaded');
      expect(sync.url).toBe(`${server.url}/profiles/${sync.id}`);
      const row = listed.find((r) => r.id === sync.id)!;
      expect(row.hasMemory).toBe(true);
      const doc = await fetchDocument(server.url, sync.id);
      expect(doc.meta.source).toBe('node-client');
      expect(doc.producer).toEqual(CLIENT);
      const memory = doc.samples.memory!;
      expect(memory.length).toBe(doc.samples.length);
      expect(Math.max(...memory) - Math.min(...memory)).toBeGreaterThan(20 * (1 << 20));
      // Every sample time lies inside the profile's span, and so do the memory bins.
      const span = doc.meta.endTime! - doc.meta.startTime!;
      expect(doc.samples.time[0]).toBeGreaterThanOrEqual(0);
      expect(doc.samples.time[doc.samples.length - 1]).toBeLessThanOrEqual(span + 1);
      const bins = await getJson<{ bins: { start: number; end: number; count: number; max: number | null }[] }>(
        `${server.url}/api/profiles/${sync.id}/memory?bins=8`,
      );
      expect(bins.bins.filter((b) => b.count > 0).length).toBeGreaterThan(1);
      expect(bins.bins.every((b) => b.start >= 0 && b.end <= span + 1)).toBe(true);
    });
  });

  describe('a program that exits right after a profiled call', () => {
    function script(dir: string, env: string): string {
      const file = join(dir, `${env}.mjs`);
      writeFileSync(
        file,
        `import { profile } from ${JSON.stringify(pathToFileURL(clientDist).href)};
const work = profile(function exitWork(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i); return x; }, {
  project: 'exiting', tags: { case: process.env.CASE }, server: process.env.SERVER, spoolDir: process.env.SPOOL,
  exitTimeoutMs: 500, uploadTimeoutMs: 60000,
});
console.log('result ' + (work(2e6) > 0));
if (process.env.EXIT_NOW) process.exit(0);
`,
      );
      return file;
    }

    it('delivers the profile while the process winds down', async () => {
      const dir = scratch();
      const r = await runNode([script(dir, 'natural')], {
        SERVER: server.url,
        SPOOL: join(dir, 'spool'),
        CASE: 'natural',
      });
      expect([r.code, r.stdout.trim()]).toEqual([0, 'result true']);
      expect((await rows(server.url, 'exiting')).filter((x) => x.tags.case === 'natural').map((x) => x.name)).toEqual([
        'exitWork',
      ]);
      expect(listSpool(join(dir, 'spool')).entries).toEqual([]);
    });

    it('spools on process.exit(), and prof upload --spool sends it later', async () => {
      const dir = scratch();
      const spool = join(dir, 'spool');
      const r = await runNode([script(dir, 'exit-now')], {
        SERVER: server.url,
        SPOOL: spool,
        CASE: 'exit-now',
        EXIT_NOW: '1',
      });
      expect([r.code, r.stdout.trim()]).toEqual([0, 'result true']);
      expect(r.stderr).toMatch(/spooled to/);
      const { entries } = listSpool(spool);
      expect(entries.map((e) => [e.meta.name, e.meta.server, e.meta.tags.case])).toEqual([
        ['exitWork', server.url, 'exit-now'],
      ]);

      const up = await prof(['upload', '--spool', '--spool-dir', spool, '--json']);
      expect(up.code).toBe(0);
      const report = JSON.parse(up.stdout) as { ok: boolean; results: { ok: boolean; id: string; name: string }[] };
      expect(report.ok).toBe(true);
      expect(report.results.map((x) => [x.ok, x.name])).toEqual([[true, 'exitWork']]);
      expect(listSpool(spool).entries).toEqual([]);
      const row = (await rows(server.url, 'exiting')).find((x) => x.id === report.results[0].id)!;
      expect(row).toMatchObject({ name: 'exitWork', tags: { case: 'exit-now' }, hasMemory: true });
    });

    it('still returns and exits when the server hangs; the profile waits in the spool', async () => {
      const hanging = await startRawServer(() => {
        /* accepts the request and never answers */
      });
      try {
        const dir = scratch();
        const spool = join(dir, 'spool');
        const r = await runNode([script(dir, 'hang')], { SERVER: hanging.url, SPOOL: spool, CASE: 'hang' });
        expect([r.code, r.stdout.trim()]).toEqual([0, 'result true']);
        expect(hanging.requests).toBe(1); // it did try
        const { entries } = listSpool(spool);
        expect(entries).toHaveLength(1);
        expect(entries[0].meta.reason).toMatch(/not finished within 500 ms/);
      } finally {
        await hanging.close();
      }
    });

    it('still returns when the server is down; the profile waits in the spool', async () => {
      const dir = scratch();
      const spool = join(dir, 'spool');
      const r = await runNode([script(dir, 'down')], { SERVER: await closedPortUrl(), SPOOL: spool, CASE: 'down' });
      expect([r.code, r.stdout.trim()]).toEqual([0, 'result true']);
      const { entries } = listSpool(spool);
      expect(entries.map((e) => e.meta.reason)).toEqual([expect.stringMatching(/cannot reach/)]);
    });
  });

  describe('prof upload', () => {
    /** Every shared vmprof fixture that has vmprof's ground truth beside it (a new one is covered as it lands). */
    function fixtures(): string[] {
      const out: string[] = [];
      const walk = (dir: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const p = join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.name.endsWith('.expected.json')) {
            const stem = p.slice(0, -'.expected.json'.length);
            for (const ext of ['.prof', '.prof.gz', '.tsprof']) if (existsSync(stem + ext)) out.push(stem + ext);
          }
        }
      };
      for (const d of readdirSync(fixturesDir).filter((d) => d.startsWith('vmprof'))) walk(join(fixturesDir, d));
      return out.sort();
    }

    it('uploads every shared fixture; each fetched back equals a local conversion', async () => {
      const files = fixtures();
      expect(files.length).toBeGreaterThan(40);
      const r = await prof([
        'upload',
        ...files,
        '--project',
        'fixtures',
        '--tag',
        'suite=fixtures',
        '--server',
        server.url,
        '--json',
      ]);
      const report = JSON.parse(r.stdout) as {
        results: {
          file: string;
          ok: boolean;
          id?: string;
          name?: string;
          error?: { code: string; exitCode: number };
        }[];
      };
      expect(report.results.map((x) => x.file)).toEqual(files);
      let uploaded = 0;
      for (const result of report.results) {
        const local = await readProfileFile(result.file).catch((e: Error) => e);
        if (local instanceof Error) {
          // Unreadable even for Prof: the CLI says it is bad input, by a format error code.
          expect(result.ok, result.file).toBe(false);
          expect(result.error!.code).toBe(`format:${(local as { code?: string }).code}`);
          expect(result.error!.exitCode).toBe(3);
          continue;
        }
        expect(result.ok, `${result.file}: ${JSON.stringify(result.error)}`).toBe(true);
        expect(result.name).toBe(documentSummary(local).topFunction ?? local.meta.name ?? basename(result.file));
        local.meta.project = 'fixtures';
        local.meta.name = result.name!;
        local.meta.tags = { ...local.meta.tags, suite: 'fixtures' };
        const remote = await fetchDocument(server.url, result.id!);
        expect(remote, result.file).toEqual(local);
        uploaded++;
      }
      expect(uploaded).toBeGreaterThan(40);
      expect(r.code).toBe(report.results.every((x) => x.ok) ? 0 : 3);
    });

    it('exits 2 on usage errors, 3 on unreadable input, 4 when the server is down, 5 when it refuses', async () => {
      const file = join(fixturesDir, 'vmprof-fresh', 'cpu_basic.prof');
      const usage = await prof(['upload', file, '--server', server.url], { PROF_PROJECT: '' });
      expect([usage.code, usage.stderr]).toEqual([2, expect.stringMatching(/--project is required/)]);

      const missing = await prof(['upload', '/nonexistent.prof', '--project', 'x', '--server', server.url]);
      expect([missing.code, missing.stderr]).toEqual([3, expect.stringMatching(/nonexistent\.prof/)]);

      const garbage = join(scratch(), 'garbage.prof');
      writeFileSync(garbage, 'this is not a profile at all');
      const bad = await prof(['upload', garbage, '--project', 'x', '--server', server.url, '--json']);
      expect(bad.code).toBe(3);
      expect(JSON.parse(bad.stdout).results[0].error.code).toMatch(/^format:/);

      const down = await prof(['upload', file, file, '--project', 'x', '--server', await closedPortUrl(), '--json']);
      expect(down.code).toBe(4);
      const downReport = JSON.parse(down.stdout);
      expect(downReport.results.map((x: { error: { code: string } }) => x.error.code)).toEqual([
        'unreachable',
        'unreachable',
      ]);

      const guarded = await startProfServer(['--no-demos', '--token', 'sekrit']);
      try {
        const refused = await prof(['upload', file, '--project', 'x', '--server', guarded.url, '--token', 'wrong']);
        expect(refused.code).toBe(5);
        const accepted = await prof(['upload', file, '--project', 'x', '--server', guarded.url], {
          PROF_TOKEN: 'sekrit',
        });
        expect([accepted.code, accepted.stdout]).toEqual([0, expect.stringContaining(`${guarded.url}/profiles/`)]);
      } finally {
        await guarded.stop();
      }
    });
  });

  describe('prof run', () => {
    it('still uploads the profile of a long job stopped with Ctrl-C, and exits as the job did', async () => {
      const dir = scratch();
      const prog = join(dir, 'forever.mjs');
      writeFileSync(
        prog,
        `const keep = [];
let rounds = 0;
function churn() {
  let x = 0; for (let i = 0; i < 3e5; i++) x += Math.sqrt(i); keep.push(new Array(5e4).fill(x));
  if (++rounds === 300) console.log('worked'); // 120 MB kept and 300 rounds of work: the profile has them
}
setInterval(churn, 5);
`,
      );
      // Its own process group, as a terminal gives it: Ctrl-C signals the whole group.
      const child = spawn(
        process.execPath,
        [clientCli, 'run', '--project', 'runs', '--server', server.url, '--json', '--', process.execPath, prog],
        {
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      child.stdout!.on('data', (c: Buffer) => (stdout += c));
      child.stderr!.resume();
      // Stopped once it has done the work the profile is checked for, however slowly a loaded machine ran it.
      await new Promise<void>((resolve) => child.stdout!.on('data', () => stdout.includes('worked') && resolve()));
      process.kill(-child.pid!, 'SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code).toBe(130); // 128 + SIGINT, as the job itself ended
      const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        ok: boolean;
        results: { id: string; name: string }[];
      };
      expect(report.ok).toBe(true);
      const doc = await fetchDocument(server.url, report.results[0].id);
      expect(doc.meta.name).toBe('forever.mjs');
      expect(doc.producer).toEqual(CLIENT);
      expect(doc.strings).toContain('churn');
      expect(doc.samples.length).toBeGreaterThan(100);
      expect(doc.samples.memory).not.toBeNull();
      // The arrays it keeps live on the V8 heap: the heap column sees them grow.
      const heap = Array.from(doc.samples.heap!);
      expect(heap.every(Number.isFinite)).toBe(true);
      expect(Math.max(...heap) - Math.min(...heap)).toBeGreaterThan(10 * (1 << 20));
    });

    it('profiles a whole Node program with memory, uploads it, and exits with its status', async () => {
      const dir = scratch();
      const prog = join(dir, 'crunch.mjs');
      writeFileSync(
        prog,
        `const keep = [];
function crunch(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i); return x; }
for (let i = 0; i < 40; i++) { keep.push(Buffer.alloc(2 << 20, 1)); crunch(2e6); }
console.log('crunched', keep.length);
process.exitCode = 3;
`,
      );
      const r = await prof([
        'run',
        '--project',
        'runs',
        '--tag',
        'kind=script',
        '--server',
        server.url,
        '--json',
        '--',
        process.execPath,
        prog,
      ]);
      expect(r.code).toBe(3); // the program's own status
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('crunched 40');
      const report = JSON.parse(lines.at(-1)!) as {
        ok: boolean;
        exitCode: number;
        results: { ok: boolean; id: string; name: string }[];
      };
      expect(report).toMatchObject({ ok: true, exitCode: 3 });
      expect(report.results.map((x) => x.name)).toEqual(['crunch.mjs']);
      const doc = await fetchDocument(server.url, report.results[0].id);
      expect(doc.meta).toMatchObject({ project: 'runs', name: 'crunch.mjs', tags: { kind: 'script' } });
      expect(doc.strings).toContain('crunch');
      const memory = doc.samples.memory!;
      expect(Math.max(...memory) - Math.min(...memory)).toBeGreaterThan(40 * (1 << 20));
      expect(doc.meta.startTime! - Date.now()).toBeLessThan(0);
    });
  });
});
