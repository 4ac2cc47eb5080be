import { UploadError } from '../transport/http-upload';
import { printable } from './text';

/**
 * Exit codes of `prof upload`, `prof spool`, `prof inspect` and `prof convert` (documented in the
 * README; scripts rely on them).
 * `prof run` exits with the profiled program's own status instead.
 */
export const ExitCode = {
  ok: 0,
  /** A bug or an unexpected failure inside prof. */
  internal: 1,
  /** Bad command line: missing --project, no files, unknown option. */
  usage: 2,
  /** An input file is missing, unreadable or not a profile prof can read. */
  input: 3,
  /** The server could not be reached, did not answer in time, or failed (5xx): try again later. */
  unavailable: 4,
  /** The server refused the upload (4xx: bad token, invalid profile); retrying will not help. */
  rejected: 5,
  /** `prof convert` could not write its output file (directory missing, no permission, disk full). */
  output: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure as shown to users and in `--json` output. */
export interface FailureInfo {
  code: string;
  message: string;
  exitCode: ExitCode;
  /** For unreadable profiles: the byte offset (in the uncompressed input) where reading failed. */
  offset?: number;
}

export function describeFailure(e: unknown): FailureInfo {
  if (e instanceof UploadError) {
    const exitCode = e.code === 'rejected' || e.code === 'bad-url' ? ExitCode.rejected : ExitCode.unavailable;
    return {
      code: e.serverCode ? `${e.code}:${e.serverCode}` : e.code,
      message: e.message,
      exitCode: e.code === 'bad-url' ? ExitCode.usage : exitCode,
    };
  }
  const err = e as { name?: string; code?: unknown; message?: string; details?: { offset?: number } } | null;
  if (err && err.name === 'ProfFormatError') {
    const offset = err.details?.offset;
    return {
      code: `format:${String(err.code)}`,
      message: err.message ?? String(e),
      exitCode: ExitCode.input,
      ...(offset !== undefined ? { offset } : {}),
    };
  }
  if (err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    return { code: `file:${err.code}`, message: err.message ?? String(e), exitCode: ExitCode.input };
  }
  return { code: 'internal', message: err?.message ?? String(e), exitCode: ExitCode.internal };
}

/** The process exit code for a run: the first failure's, else ok. */
export function exitCodeOf(failures: (FailureInfo | null | undefined)[]): ExitCode {
  return failures.find((f): f is FailureInfo => !!f)?.exitCode ?? ExitCode.ok;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Reports a failure of `prof COMMAND FILE` on stderr (and as `{"error": …}` on stdout with `--json`)
 * and returns its exit code. `failure` overrides what `describeFailure` would say.
 */
export function reportFailure(
  command: string,
  file: string | undefined,
  e: unknown,
  json: boolean | undefined,
  failure?: FailureInfo,
): number {
  const f =
    failure ??
    (e instanceof UsageError ? { code: 'usage', message: e.message, exitCode: ExitCode.usage } : describeFailure(e));
  if (json) process.stdout.write(JSON.stringify({ error: f }, null, 2) + '\n');
  process.stderr.write(`prof ${command}: ${file ? `${printable(file)}: ` : ''}${printable(f.message)}\n`);
  return f.exitCode;
}
