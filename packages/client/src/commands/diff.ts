import type { Command } from 'commander';
import { resolveServer } from '../config';
import { UploadError } from '../transport/http-upload';
import { reportFailure, UsageError } from './exit-codes';
import { clip, formatBytes, formatCount } from './text';

export interface DiffCliOptions {
  server?: string;
  json?: boolean;
  top: string;
  sort: string;
  by: string;
  baseFrom?: string;
  baseTo?: string;
  targetFrom?: string;
  targetTo?: string;
  timeout: string;
}

interface Weights {
  self: number;
  total: number;
}

/** A row of `GET /api/compare/functions` (apps/server/README.md). */
export interface FunctionChange {
  name: string;
  file: string;
  line: number;
  kind: string;
  base: Weights;
  target: Weights;
  baseShare: Weights;
  targetShare: Weights;
  delta: Weights;
  deltaShare: Weights;
  added: boolean;
  removed: boolean;
}

interface CompareAnswer {
  unit: 'samples' | 'bytes';
  base: { id: string; samples: number };
  target: { id: string; samples: number };
  count: number;
  functions: FunctionChange[];
}

const ID = /^[a-z2-7]{24}$/;
const SORTS = ['total', 'self'] as const;

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('what changed between two stored profiles: the functions whose share of the time changed most')
    .argument('<base>', 'profile id (or its /profiles/<id> URL) to compare from')
    .argument('<target>', 'profile id (or URL) to compare to')
    .option('-s, --server <url>', 'Prof server (default: the URL given, $PROF_SERVER or http://localhost:8080)')
    .option('--top <n>', 'rows to print', '20')
    .option('--sort <column>', 'rank by the change of share of `total` or `self` time', 'total')
    .option('--by <measure>', '`cpu` (samples) or `growth` (bytes of memory gained under each function)', 'cpu')
    .option('--base-from <ms>', "start of the base's range, ms from its start")
    .option('--base-to <ms>', "end of the base's range")
    .option('--target-from <ms>', "start of the target's range")
    .option('--target-to <ms>', "end of the target's range")
    .option('--timeout <ms>', 'deadline of the request in ms', '60000')
    .option('--json', 'print the comparison as JSON')
    .action(async (base: string, target: string, opts: DiffCliOptions) => {
      process.exitCode = await runDiff(base, target, opts);
    });
}

/** A profile id, from the id itself or a URL ending in it (as `prof upload` prints). */
function parseRef(text: string, which: string): { id: string; server?: string } {
  if (ID.test(text)) return { id: text };
  const m = /^(https?:\/\/[^/]+)(?:\/.*)?\/(?:profiles\/)?([a-z2-7]{24})\/?(?:[?#].*)?$/.exec(text);
  if (m) return { id: m[2], server: m[1] };
  throw new UsageError(`${which} "${text}" is neither a profile id (24 characters of a-z, 2-7) nor a profile URL`);
}

function positiveInteger(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} "${text}" is not a positive integer`);
  return n;
}

export async function runDiff(baseText: string, targetText: string, opts: DiffCliOptions): Promise<number> {
  try {
    const base = parseRef(baseText, 'base');
    const target = parseRef(targetText, 'target');
    const top = positiveInteger(opts.top, '--top');
    const timeoutMs = positiveInteger(opts.timeout, '--timeout');
    if (!SORTS.includes(opts.sort as (typeof SORTS)[number]))
      throw new UsageError(`--sort "${opts.sort}": expected total or self`);
    const sort = opts.sort as (typeof SORTS)[number];
    if (opts.by !== 'cpu' && opts.by !== 'growth') throw new UsageError(`--by "${opts.by}": expected cpu or growth`);
    const server = resolveServer(opts.server ?? target.server ?? base.server);
    const params = new URLSearchParams({ base: base.id, target: target.id, top: '1000000' });
    if (opts.by === 'growth') params.set('weight', 'growth');
    for (const [key, value] of Object.entries({
      baseFrom: opts.baseFrom,
      baseTo: opts.baseTo,
      targetFrom: opts.targetFrom,
      targetTo: opts.targetTo,
    })) {
      if (value !== undefined) params.set(key, value);
    }
    const answer = await getJson<CompareAnswer>(`${server}/api/compare/functions?${params}`, timeoutMs);
    // The server ranks by the change of total share; a stable sort by self keeps its order among ties.
    const ranked =
      sort === 'total'
        ? answer.functions
        : [...answer.functions].sort((a, b) => Math.abs(b.deltaShare.self) - Math.abs(a.deltaShare.self));
    const rows = ranked.slice(0, top);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...answer, functions: rows }, null, 2)}\n`);
    } else {
      process.stdout.write(changeTable(answer, rows, sort));
    }
    return 0;
  } catch (e) {
    return reportFailure('diff', undefined, e, opts.json);
  }
}

async function getJson<T>(url: string, timeoutMs: number): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'TimeoutError')
      throw new UploadError('timeout', `no answer from ${new URL(url).origin} in ${timeoutMs} ms`);
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? name;
    throw new UploadError('unreachable', `cannot reach ${new URL(url).origin}: ${cause}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UploadError('server-error', `the server answered ${response.status} with no JSON`, response.status);
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    const message = `the server answered ${response.status}: ${error?.message ?? text.slice(0, 200)}`;
    throw new UploadError(response.status < 500 ? 'rejected' : 'server-error', message, response.status, error?.code);
  }
  return body as T;
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const pp = (share: number) => `${share > 0 ? '+' : share < 0 ? '−' : ' '}${Math.abs(share * 100).toFixed(1)}`;

/** A fixed-width table: change in percentage points first, then both shares, samples and the function. */
export function changeTable(answer: CompareAnswer, rows: FunctionChange[], sort: 'total' | 'self'): string {
  const bytes = answer.unit === 'bytes';
  const amount = (v: number) => (bytes ? formatBytes(Math.round(v)) : formatCount(v));
  const head = ['change', 'base', 'target', bytes ? 'grown' : 'samples', 'function'];
  const lines = rows.map((r) => {
    const mark = r.added ? ' (added)' : r.removed ? ' (removed)' : '';
    const where = r.file ? `  ${clip(r.file, 50, 'start')}${r.line > 0 ? `:${r.line}` : ''}` : '';
    return [
      pp(r.deltaShare[sort]),
      pct(r.baseShare[sort]),
      pct(r.targetShare[sort]),
      `${amount(r.base[sort])} → ${amount(r.target[sort])}`,
      `${clip(r.name, 60, 'end')}${mark}${where}`,
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const format = (cells: string[]) =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padStart(widths[c]))).join('  ');
  const title =
    `${sort} ${bytes ? 'memory growth' : 'time'}, share of each run (base ${answer.base.id}: ${formatCount(answer.base.samples)} samples, ` +
    `target ${answer.target.id}: ${formatCount(answer.target.samples)}); change in percentage points\n`;
  const more = answer.count > rows.length ? `… ${answer.count - rows.length} more functions (--top)\n` : '';
  return `${title}${format(head)}\n${lines.map(format).join('\n')}${lines.length ? '\n' : ''}${more}`;
}
