import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants, hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { documentSummary, readV8CpuProfile, type ProfileDocument } from '@prof/format';
import { gzipDocument } from '@prof/format/node';
import { parseTag, resolveProject, resolveServer, resolveSpoolDir, resolveToken } from '../config';
import { CLIENT_PRODUCER } from '../producer';
import { spoolSync } from '../spool/spool-dir';
import { RUN_ENV, type RunMemoryFile } from '../run/run-files';
import { describeFailure, ExitCode, type FailureInfo } from './exit-codes';
import { sendWithProgress } from './upload';

interface RunCliOptions {
  project?: string;
  name?: string;
  tag: string[];
  server?: string;
  token?: string;
  interval: string;
  memory: boolean;
  memoryInterval: string;
  spoolDir?: string;
  timeout: string;
  json?: boolean;
}

interface RunReport {
  pid: number;
  name: string | null;
  ok: boolean;
  url?: string;
  id?: string;
  spooled?: string;
  error?: FailureInfo;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a command, profile every Node process it starts (CPU and memory), upload the profiles')
    .argument('<command...>', 'the command, after --, e.g. -- node script.js')
    .option('-p, --project <project>', 'project (default: $PROF_PROJECT)')
    .option('-n, --name <name>', 'profile name (default: the script file name)')
    .option('-t, --tag <key=value>', 'tag, repeatable', collect, [])
    .option('-s, --server <url>', 'Prof server (default: $PROF_SERVER or http://localhost:8080)')
    .option('--token <token>', 'bearer token (default: $PROF_TOKEN)')
    .option('--interval <us>', 'CPU sampling interval in µs', '1000')
    .option('--no-memory', 'do not sample memory')
    .option('--memory-interval <ms>', 'memory sampling interval in ms', '10')
    .option('--spool-dir <dir>', 'where profiles go when the upload fails (default: $PROF_SPOOL or ~/.prof/spool)')
    .option('--timeout <ms>', 'deadline of each upload in ms', '120000')
    .option(
      '--json',
      "print the upload results as one JSON line on stdout after the program ends (the last line; the program's own output comes before it)",
    )
    .action(async (command: string[], opts: RunCliOptions) => {
      process.exitCode = await runProgram(command, opts);
    });
}

/** Exits with the program's own status (128 + signal number when killed), whatever the upload did. */
export async function runProgram(command: string[], opts: RunCliOptions): Promise<number> {
  const project = resolveProject(opts.project);
  if (!project) {
    process.stderr.write('prof run: --project is required (or set PROF_PROJECT)\n');
    return ExitCode.usage;
  }
  let tags: Record<string, string>;
  try {
    tags = Object.fromEntries(opts.tag.map(parseTag));
  } catch (e) {
    process.stderr.write(`prof run: ${(e as Error).message}\n`);
    return ExitCode.usage;
  }
  const dir = mkdtempSync(join(tmpdir(), 'prof-run-'));
  try {
    const status = await spawnProfiled(command, dir, opts);
    const reports = await uploadRunProfiles(dir, project, tags, opts);
    if (opts.json)
      process.stdout.write(
        JSON.stringify({ ok: reports.every((r) => r.ok), exitCode: status, results: reports }) + '\n',
      );
    return status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The preload is the built `run-preload.js` beside this CLI (tsup puts every entry in dist/); a
 * file URL needs no quoting inside NODE_OPTIONS.
 */
function preloadUrl(): string {
  const here = fileURLToPath(import.meta.url);
  return pathToFileURL(join(here, '..', 'run-preload.js')).href;
}

function spawnProfiled(command: string[], dir: string, opts: RunCliOptions): Promise<number> {
  const interval = Math.max(1, Math.round(Number(opts.interval) || 1000));
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', `--import=${preloadUrl()}`].join(' ').trim();
  const env = {
    ...process.env,
    NODE_OPTIONS: nodeOptions,
    [RUN_ENV.dir]: dir,
    [RUN_ENV.intervalUs]: String(interval),
    [RUN_ENV.memory]: opts.memory ? '1' : '0',
    [RUN_ENV.memoryIntervalMs]: String(Number(opts.memoryInterval) || 10),
  };
  return new Promise<number>((resolve) => {
    const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env });
    // Ctrl-C reaches the child through the terminal's process group; we stay to upload its profile.
    const ignore = (): void => {};
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    const done = (status: number): void => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      resolve(status);
    };
    child.on('error', (e) => {
      process.stderr.write(`prof run: cannot start ${command[0]}: ${e.message}\n`);
      done(127);
    });
    child.on('exit', (code, signal) => {
      done(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}

/** `cpu-<pid>.cpuprofile`, as the preload names them (main threads only). */
const CPU_PROFILE_NAME = /^cpu-(\d+)\.cpuprofile$/;

async function uploadRunProfiles(
  dir: string,
  project: string,
  tags: Record<string, string>,
  opts: RunCliOptions,
): Promise<RunReport[]> {
  const files = readdirSync(dir);
  const mainThreadProfiles = files
    .map((f) => ({ f, m: CPU_PROFILE_NAME.exec(f) }))
    .filter((x) => x.m)
    .map((x) => ({ file: join(dir, x.f), pid: Number(x.m![1]) }));
  if (mainThreadProfiles.length === 0) {
    process.stderr.write(
      'prof run: no Node process wrote a profile (was the command a Node program? was it killed by a signal?)\n',
    );
  }
  const server = resolveServer(opts.server);
  const token = resolveToken(opts.token);
  const timeoutMs = Number(opts.timeout) || 120_000;
  const reports: RunReport[] = [];
  for (const { file, pid } of mainThreadProfiles) {
    const report: RunReport = { pid, name: null, ok: false };
    let bytes: Buffer | null = null;
    let doc: ProfileDocument | null = null;
    try {
      doc = buildRunDocument(
        file,
        join(dir, `mem-${pid}.json`),
        project,
        tags,
        opts.name,
        mainThreadProfiles.length > 1 ? pid : null,
      );
      report.name = doc.meta.name;
      const gz = await gzipDocument(doc);
      bytes = gz;
      const result = await sendWithProgress(
        gz,
        { server, token, project, name: doc.meta.name, tags: doc.meta.tags },
        timeoutMs,
        file,
        !opts.json,
      );
      Object.assign(report, { ok: true, id: result.id, url: result.url });
      if (!opts.json) process.stderr.write(`prof: ${doc.meta.name}: ${result.url}\n`);
    } catch (e) {
      report.error = describeFailure(e);
      if (bytes && doc) {
        const entry = spoolSync(resolveSpoolDir(opts.spoolDir), bytes, {
          server,
          project,
          name: doc.meta.name,
          tags: doc.meta.tags,
          reason: report.error.message,
        });
        report.spooled = entry.dataPath;
      }
      if (!opts.json) {
        process.stderr.write(
          `prof run: profile of process ${pid} not uploaded: ${report.error.message}` +
            (report.spooled ? `; spooled to ${report.spooled}; send it with: prof upload --spool` : '') +
            '\n',
        );
      }
    }
    reports.push(report);
  }
  return reports;
}

function buildRunDocument(
  profileFile: string,
  memoryFile: string,
  project: string,
  tags: Record<string, string>,
  name: string | undefined,
  pid: number | null,
): ProfileDocument {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as { startTime: number };
  let mem: RunMemoryFile | null = null;
  try {
    mem = JSON.parse(readFileSync(memoryFile, 'utf8')) as RunMemoryFile;
  } catch {
    // no preload output (the process did not load our preload): CPU only, start time estimated
  }
  const epochZero = mem?.epochOfMonotonicZero ?? null;
  const allTags = pid === null ? { ...tags } : { ...tags, pid: String(pid) };
  const doc = readV8CpuProfile(profile, {
    wallClockStartMs: epochZero !== null ? epochZero + profile.startTime / 1000 : undefined,
    project,
    tags: allTags,
    memory:
      mem?.memory && mem.time.length > 0
        ? {
            time: Float64Array.from(mem.time, (t) => t + epochZero!),
            bytes: Float64Array.from(mem.rss),
            heap: mem.heap ? Float64Array.from(mem.heap, (h) => h ?? NaN) : undefined,
          }
        : undefined,
  });
  const script = mem?.argv[1] ? basename(mem.argv[1]) : null;
  doc.meta.name = name ?? script ?? documentSummary(doc).topFunction ?? basename(profileFile);
  doc.meta.project = project;
  doc.meta.tags = { ...doc.meta.tags, ...allTags };
  doc.meta.source = 'node-client';
  doc.producer = { ...CLIENT_PRODUCER };
  doc.meta.argv = mem?.argv ?? doc.meta.argv;
  doc.meta.host ??= hostname();
  doc.meta.zone ??= mem?.zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  doc.meta.interpreter = mem?.nodeVersion ? `node ${mem.nodeVersion}` : 'node';
  return doc;
}
