import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { documentSummary, type ProfileDocument } from '@prof/format';
import {
  type ConvertFileOptions,
  type ConvertFileResult,
  convertProfileFile,
  readProfileFile,
} from '@prof/format/node';
import { parseTag, resolveProject, resolveServer, resolveSpoolDir, resolveToken } from '../config';
import { listSpool, removeSpoolEntry } from '../spool/spool-dir';
import { uploadBytes, UploadError, type UploadResult } from '../transport/http-upload';
import { describeFailure, exitCodeOf, ExitCode, UsageError, type FailureInfo } from './exit-codes';
import { progressBar } from './progress';

export interface UploadCliOptions {
  project?: string;
  name?: string;
  tag: string[];
  server?: string;
  token?: string;
  json?: boolean;
  spool?: boolean;
  spoolDir?: string;
  timeout: string;
}

/** One line of `--json` output per input. */
export interface UploadReport {
  file: string;
  ok: boolean;
  id?: string;
  url?: string;
  project?: string | null;
  name?: string | null;
  /** Size of the uploaded `.msgpack.gz`. */
  bytes?: number;
  error?: FailureInfo;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerUpload(program: Command): void {
  program
    .command('upload')
    .description('convert profiles (vmprof .prof, plain or gzipped; .cpuprofile) locally and upload them')
    .argument('[files...]', 'profiles to upload')
    .option('-p, --project <project>', 'project to file the profiles under (default: $PROF_PROJECT)')
    .option('-n, --name <name>', 'profile name (default: the top-level function found in the profile)')
    .option('-t, --tag <key=value>', 'tag, repeatable', collect, [])
    .option('-s, --server <url>', 'Prof server (default: $PROF_SERVER or http://localhost:8080)')
    .option('--token <token>', 'bearer token (default: $PROF_TOKEN)')
    .option('--spool', 'send the profiles the decorator could not deliver, instead of files')
    .option('--spool-dir <dir>', 'spool directory (default: $PROF_SPOOL or ~/.prof/spool)')
    .option('--timeout <ms>', 'deadline of each upload in ms', '120000')
    .option('--json', 'print one JSON object with the results on stdout')
    .action(async (files: string[], opts: UploadCliOptions) => {
      process.exitCode = await runUpload(files, opts);
    });
}

export async function runUpload(files: string[], opts: UploadCliOptions): Promise<number> {
  let reports: UploadReport[];
  try {
    reports = opts.spool ? await uploadSpool(files, opts) : await uploadFiles(files, opts);
  } catch (e) {
    const failure =
      e instanceof UsageError ? { code: 'usage', message: e.message, exitCode: ExitCode.usage } : describeFailure(e);
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, error: failure, results: [] }) + '\n');
    else process.stderr.write(`prof upload: ${failure.message}\n`);
    return failure.exitCode;
  }
  const code = exitCodeOf(reports.map((r) => r.error));
  if (opts.json) process.stdout.write(JSON.stringify({ ok: code === 0, results: reports }, null, 2) + '\n');
  return code;
}

function parseTags(tags: string[]): Record<string, string> {
  try {
    return Object.fromEntries(tags.map(parseTag));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function parseTimeout(text: string): number {
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--timeout "${text}" is not a positive number of ms`);
  return ms;
}

async function uploadFiles(files: string[], opts: UploadCliOptions): Promise<UploadReport[]> {
  if (files.length === 0) throw new UsageError('no files given (or use --spool)');
  const project = resolveProject(opts.project);
  if (!project) throw new UsageError('--project is required (or set PROF_PROJECT)');
  const tags = parseTags(opts.tag);
  const timeoutMs = parseTimeout(opts.timeout);
  const server = resolveServer(opts.server);
  const token = resolveToken(opts.token);
  const reports: UploadReport[] = [];
  let unavailable: FailureInfo | null = null;
  for (const file of files) {
    if (unavailable) {
      // The server is down: do not wait out a timeout per file.
      reports.push({ file, ok: false, error: { ...unavailable, message: `skipped: ${unavailable.message}` } });
      continue;
    }
    const report: UploadReport = { file, ok: false, project };
    const scratch = mkdtempSync(join(tmpdir(), 'prof-upload-'));
    try {
      const out = join(scratch, 'document.msgpack.gz');
      const { document: doc } = await convertToFile(file, out, !opts.json, (doc, samples) => {
        doc.meta.project = project;
        doc.meta.name = opts.name ?? documentSummary(doc, samples).topFunction ?? doc.meta.name ?? basename(file);
        doc.meta.tags = { ...doc.meta.tags, ...tags };
      });
      report.name = doc.meta.name;
      const bytes = readFileSync(out);
      report.bytes = bytes.byteLength;
      const result = await sendWithProgress(
        bytes,
        { server, token, project, name: doc.meta.name, tags },
        timeoutMs,
        file,
        !opts.json,
      );
      Object.assign(report, { ok: true, id: result.id, url: result.url });
      if (!opts.json) process.stdout.write(`${file}: ${result.url}\n`);
    } catch (e) {
      report.error = describeFailure(e);
      if (e instanceof UploadError && e.retryable) unavailable = report.error;
      if (!opts.json) process.stderr.write(`prof upload: ${file}: ${report.error.message}\n`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    reports.push(report);
  }
  return reports;
}

/**
 * Converts any supported profile into the `.msgpack.gz` file `out` (vmprof as a stream, in bounded
 * memory whatever its length), with a progress bar over the input bytes, then one over the
 * encoding. `prepare` sets what the document says before it is written.
 */
export async function convertToFile(
  file: string,
  out: string,
  showProgress: boolean,
  prepare?: ConvertFileOptions['prepare'],
): Promise<ConvertFileResult> {
  statSync(file); // a missing file is an input error with its errno, before any work
  const name = basename(file);
  let phase: 'read' | 'write' = 'read';
  let bar = progressBar('convert', name, showProgress);
  try {
    return await convertProfileFile(file, out, {
      prepare,
      onProgress(done, total, now) {
        if (now !== phase) {
          bar.stop();
          bar = progressBar('encode', name, showProgress);
          phase = now;
        }
        bar.update(done, total);
      },
    });
  } finally {
    bar.stop();
  }
}

/** Reads any supported profile into a document, with a progress bar over the input bytes. */
export async function convertFile(file: string, showProgress: boolean): Promise<ProfileDocument> {
  statSync(file); // a missing file is an input error with its errno, before any work
  const bar = progressBar('convert', basename(file), showProgress);
  try {
    return await readProfileFile(file, { onProgress: (done: number, total: number) => bar.update(done, total) });
  } finally {
    bar.stop();
  }
}

export async function sendWithProgress(
  bytes: Uint8Array,
  target: Parameters<typeof uploadBytes>[1],
  timeoutMs: number,
  label: string,
  showProgress: boolean,
): Promise<UploadResult> {
  const bar = progressBar('upload', basename(label), showProgress);
  try {
    return await uploadBytes(bytes, target, { timeoutMs, onProgress: (done, total) => bar.update(done, total) });
  } finally {
    bar.stop();
  }
}

async function uploadSpool(files: string[], opts: UploadCliOptions): Promise<UploadReport[]> {
  if (files.length > 0) throw new UsageError('--spool takes no files');
  const dir = resolveSpoolDir(opts.spoolDir);
  const timeoutMs = parseTimeout(opts.timeout);
  const token = resolveToken(opts.token);
  const { entries, broken } = listSpool(dir);
  for (const b of broken) process.stderr.write(`prof upload: skipping unreadable spool entry ${b}\n`);
  if (entries.length === 0 && !opts.json) process.stderr.write(`prof upload: spool ${dir} is empty\n`);
  const reports: UploadReport[] = [];
  for (const entry of entries) {
    const { project, name, tags } = entry.meta;
    const report: UploadReport = { file: entry.dataPath, ok: false, project, name };
    try {
      const bytes = readFileSync(entry.dataPath);
      report.bytes = bytes.byteLength;
      const server = opts.server ? resolveServer(opts.server) : entry.meta.server;
      const result = await sendWithProgress(
        bytes,
        { server, token, project, name, tags },
        timeoutMs,
        entry.dataPath,
        !opts.json,
      );
      removeSpoolEntry(entry);
      Object.assign(report, { ok: true, id: result.id, url: result.url });
      if (!opts.json) process.stdout.write(`${name ?? entry.id}: ${result.url}\n`);
    } catch (e) {
      report.error = describeFailure(e);
      if (!opts.json)
        process.stderr.write(`prof upload: ${entry.dataPath}: ${report.error.message} (kept in the spool)\n`);
    }
    reports.push(report);
  }
  return reports;
}
