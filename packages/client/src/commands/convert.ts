import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import type { DocumentWarning, ProfileDocument } from '@prof/format';
import { writeAtomic } from '../spool/spool-dir';
import { describeFailure, ExitCode, reportFailure, UsageError } from './exit-codes';
import { PROGRESS_MIN_BYTES } from './progress';
import { formatBytes, formatCount, formatDuration, printable } from './text';
import { convertToFile } from './upload';

interface ConvertCliOptions {
  output?: string;
  json?: boolean;
}

/** What `--json` prints on success. */
export interface ConvertReport {
  input: { path: string; bytes: number };
  output: { path: string; bytes: number };
  samples: number;
  warnings: DocumentWarning[];
  ms: number;
}

const PROFILE_SUFFIX = /(\.msgpack\.gz|\.prof\.gz|\.prof|\.tsprof|\.cpuprofile|\.json|\.gz)$/i;

/** `run.prof` and `run.prof.gz` → `run.msgpack.gz`, beside the input (a `.msgpack.gz` input needs `-o`). */
export function defaultOutput(file: string): string {
  return join(dirname(file), `${basename(file).replace(PROFILE_SUFFIX, '')}.msgpack.gz`);
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert a profile (vmprof .prof, plain or gzipped; .cpuprofile) into a Prof document, .msgpack.gz')
    .argument('[file]', 'the profile')
    .option('-o, --output <path>', 'where to write the document (default: FILE with .msgpack.gz for its extension)')
    .option('--json', 'print the result (sizes, samples, warnings) as JSON on stdout')
    .action(async (file: string | undefined, opts: ConvertCliOptions) => {
      process.exitCode = await runConvert(file, opts);
    });
}

export async function runConvert(file: string | undefined, opts: ConvertCliOptions): Promise<number> {
  const started = performance.now();
  let output: string | undefined;
  try {
    if (!file) throw new UsageError('no file given: prof convert FILE [-o OUT.msgpack.gz]');
    output = opts.output ?? defaultOutput(file);
    if (resolve(output) === resolve(file))
      throw new UsageError(`the output would overwrite the input ${file}; name another with -o`);
    const inputBytes = statSync(file).size;
    // Converted into a scratch file first (a vmprof file as a stream, in bounded memory), so a
    // failure to write the output stays an output error.
    const scratch = mkdtempSync(join(tmpdir(), 'prof-convert-'));
    let doc: ProfileDocument;
    let bytes: Buffer;
    try {
      const out = join(scratch, 'document.msgpack.gz');
      doc = (await convertToFile(file, out, !opts.json && inputBytes >= PROGRESS_MIN_BYTES)).document;
      bytes = readFileSync(out);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    try {
      writeAtomic(output, bytes, 0o644);
    } catch (e) {
      const failure = describeFailure(e);
      return reportFailure('convert', output, e, opts.json, {
        ...failure,
        message: `cannot write the output: ${failure.message}`,
        exitCode: ExitCode.output,
      });
    }
    const report: ConvertReport = {
      input: { path: file, bytes: inputBytes },
      output: { path: output, bytes: bytes.byteLength },
      samples: doc.samples.length,
      warnings: doc.warnings,
      ms: Math.round(performance.now() - started),
    };
    if (opts.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      process.stdout.write(
        `${printable(file)} (${formatBytes(inputBytes)}) -> ${printable(output)} (${formatBytes(bytes.byteLength)}, ` +
          `${sizeRatio(inputBytes, bytes.byteLength)}): ${formatCount(doc.samples.length)} samples in ${formatDuration(report.ms)}\n`,
      );
      for (const w of doc.warnings) {
        process.stderr.write(
          `prof convert: warning: ${w.code}${w.offset !== undefined ? ` at byte ${formatCount(w.offset)}` : ''}: ${printable(w.message)}\n`,
        );
      }
    }
    return ExitCode.ok;
  } catch (e) {
    return reportFailure('convert', file, e, opts.json);
  }
}

/** `700x smaller`, `1.6x larger`. */
function sizeRatio(input: number, output: number): string {
  const r = input >= output ? input / Math.max(output, 1) : output / Math.max(input, 1);
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}x ${input >= output ? 'smaller' : 'larger'}`;
}
