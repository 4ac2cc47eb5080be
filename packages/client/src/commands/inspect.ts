import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { functionTable } from '@prof/binning';
import {
  detectFormat,
  documentSummary,
  FRAME_KIND_NAMES,
  FrameKind,
  type DetectedFormat,
  type ProfileDocument,
} from '@prof/format';
import { inspectFile, sniffProfile } from '@prof/format/node';
import { ExitCode, reportFailure, UsageError } from './exit-codes';
import { PROGRESS_MIN_BYTES } from './progress';
import { clip, formatBytes, formatCount, formatDuration, formatMemory, printable } from './text';
import { convertFile } from './upload';

interface InspectCliOptions {
  json?: boolean;
  top: string;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('summarise a profile (vmprof .prof, plain or gzipped; .cpuprofile; .msgpack.gz)')
    .argument('[file]', 'the profile')
    .option('--json', "print what vmprof's own reader makes of a vmprof file, in the schema of its expected.json")
    .option('--top <n>', 'how many functions to list', '10')
    .action(async (file: string | undefined, opts: InspectCliOptions) => {
      process.exitCode = await runInspect(file, opts);
    });
}

export async function runInspect(file: string | undefined, opts: InspectCliOptions): Promise<number> {
  try {
    if (!file) throw new UsageError('no file given: prof inspect FILE [--json]');
    const top = Number(opts.top);
    if (!Number.isInteger(top) || top < 0) throw new UsageError(`--top "${opts.top}" is not a whole number`);
    const size = statSync(file).size; // a missing file is an input error with its errno, before any work
    if (opts.json) {
      process.stdout.write(JSON.stringify(await inspectFile(file), null, 2) + '\n');
      return ExitCode.ok;
    }
    const container = sniff(file);
    const doc = await convertFile(file, size >= PROGRESS_MIN_BYTES);
    process.stdout.write(summaryText(file, size, container, doc, top));
    return ExitCode.ok;
  } catch (e) {
    return reportFailure('inspect', file, e, opts.json);
  }
}

interface Container {
  gzipped: boolean;
  /** What is inside the gzip layer, if any. */
  format: DetectedFormat;
}

/** What the file is, from its first bytes (a gzip layer is looked through). */
function sniff(file: string): Container {
  const head = Buffer.alloc(1 << 16);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const bytes = head.subarray(0, n);
  try {
    return sniffProfile(bytes);
  } catch {
    return { gzipped: detectFormat(bytes) === 'gzip', format: 'unknown' };
  }
}

const TIME_ESTIMATES: Record<string, string> = {
  'spread-start-end': 'times estimated: spread evenly between start and end',
  period: 'times estimated: from the sampling period',
};

function formatLine(container: Container, doc: ProfileDocument): string {
  const v = doc.meta.vmprof;
  let source: string;
  if (v) {
    const platform = v.wordSize === 4 ? (v.addrSize === 8 ? '64-bit Windows' : '32-bit') : '64-bit';
    const modes = [
      v.memory && 'memory',
      v.lines && 'lines',
      v.native && 'native',
      v.rpython && 'PyPy',
      v.realTime && 'real-time',
    ].filter(Boolean);
    source = `vmprof version ${v.version}, ${platform} (${v.wordSize}-byte words, ${v.addrSize}-byte addresses)${modes.length ? `; ${modes.join(', ')}` : ''}`;
  } else {
    const names: Record<string, string> = {
      'v8-cpuprofile': 'V8 CPU profile',
      speedscope: 'speedscope profile',
      folded: 'folded stacks',
      austin: 'Austin profile',
    };
    source = names[doc.meta.source] ?? 'Prof Node client profile';
  }
  if (container.format === 'prof-document')
    return `Prof document (schema ${doc.version}${container.gzipped ? ', gzipped' : ''}) of a ${source}`;
  return container.gzipped ? `${source}, gzipped` : source;
}

function iso(ms: number | null): string {
  return ms === null ? 'unknown' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function summaryText(file: string, size: number, container: Container, doc: ProfileDocument, top: number): string {
  const { meta, samples, threads } = doc;
  const summary = documentSummary(doc);
  const rows: [string, string][] = [
    ['file', `${printable(basename(file))} (${formatBytes(size)})`],
    ['format', formatLine(container, doc)],
    ['interpreter', printable(meta.interpreter ?? 'unknown')],
  ];
  if (meta.project) rows.push(['project', printable(meta.project)]);
  if (meta.name) rows.push(['name', printable(meta.name)]);
  rows.push(['start', iso(meta.startTime) + (meta.zone ? ` (recorded in ${printable(meta.zone)})` : '')]);
  rows.push(['end', meta.endTime === null ? 'unknown (no end time: process killed?)' : iso(meta.endTime)]);
  rows.push(['duration', formatDuration(summary.durationMs)]);
  if (meta.periodUs) rows.push(['period', `${formatCount(meta.periodUs)} µs`]);
  const estimate = samples.timeEstimated ? TIME_ESTIMATES[samples.timeSource] : undefined;
  rows.push(['samples', formatCount(samples.length) + (estimate ? ` (${estimate})` : '')]);
  const ids = threads.length <= 6 ? ` (${threads.id.map(printable).join(', ')})` : '';
  rows.push(['threads', `${threads.length}${ids}`]);
  if (samples.memory) rows.push(['memory', `${range(samples.memory)} (process RSS)`]);
  if (samples.heap) rows.push(['heap', `${range(samples.heap)} (V8 heap used)`]);
  const metaPairs = Object.entries(meta.vmprof?.meta ?? {});
  if (metaPairs.length > 0) {
    const shown = metaPairs
      .slice(0, 8)
      .map(([k, v]) => `${printable(k)}=${printable(v)}`)
      .join(' ');
    rows.push(['meta', metaPairs.length > 8 ? `${shown} … (${formatCount(metaPairs.length)} entries)` : shown]);
  }
  if (summary.topFunction) rows.push(['top-level', printable(summary.topFunction)]);

  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  let out = rows.map(([k, v]) => `${k.padEnd(width)}${v}\n`).join('');
  if (top > 0 && samples.length > 0) out += functionsText(doc, top);
  if (doc.warnings.length > 0) {
    out += `\nwarnings (${doc.warnings.length}):\n`;
    for (const w of doc.warnings) {
      out += `  ${w.code}${w.offset !== undefined ? ` at byte ${formatCount(w.offset)}` : ''}: ${printable(w.message)}\n`;
    }
  }
  return out;
}

function functionsText(doc: ProfileDocument, top: number): string {
  const { strings, frames, samples } = doc;
  const table = functionTable(doc.stacks, samples.stack, {
    start: 0,
    end: samples.length,
    weight: samples.weight ?? undefined,
  });
  const all = table.weightTotal || 1;
  const pct = (x: number) => `${((100 * x) / all).toFixed(1)}%`.padStart(7);
  let out = `\ntop functions by total (${samples.weight ? 'weighted' : `of ${formatCount(samples.length)} samples`}):\n    total     self  function\n`;
  for (let r = 0; r < Math.min(top, table.frame.length); r++) {
    const f = table.frame[r];
    const kind = frames.kind[f];
    const file = strings[frames.file[f]];
    const address = strings[frames.address[f]];
    // Unnamed frames (a killed process wrote no names) are told apart by their address.
    const where = file
      ? `  ${clip(file, 60, 'start')}${frames.line[f] > 0 ? `:${frames.line[f]}` : ''}`
      : address
        ? `  ${address}`
        : '';
    const tag = kind === FrameKind.Python || kind === FrameKind.JavaScript ? '' : ` [${FRAME_KIND_NAMES[kind]}]`;
    out += `  ${pct(table.total[r])}  ${pct(table.self[r])}  ${clip(strings[frames.name[f]], 80, 'end')}${tag}${where}\n`;
  }
  return out;
}

/** `peak X, lowest Y` of a memory column, ignoring the NaN of unread values. */
function range(column: Float64Array): string {
  let low = Infinity;
  let peak = -Infinity;
  for (const m of column) {
    if (m < low) low = m;
    if (m > peak) peak = m;
  }
  return peak === -Infinity ? 'no readings' : `peak ${formatMemory(peak)}, lowest ${formatMemory(low)}`;
}
