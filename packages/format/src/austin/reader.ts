/**
 * Austin's text output (austin 3.x, https://github.com/P403n1x87/austin): `# key: value` header and
 * footer lines (`austin`, `interval` µs, `mode` wall|cpu|memory|full, `python`, `duration` µs), then
 * one sample per line, root first: `P<pid>;T<iid>:<tid>;<file>:<function>:<line>;... <metric>`.
 * The metric is the time since the thread's previous sample in µs (wall, cpu), the RSS change since
 * the previous sample in bytes (memory), or `<time>,<idle 0|1>,<RSS change>` (full).
 */
import { DocumentBuilder, emptyMeta } from '../builder';
import { ProfFormatError } from '../errors';
import { FrameKind, type DocumentWarning, type ProfileDocument } from '../schema';
import { headLines, pushInTimeOrder, textOf, type PendingSample } from '../text-input';
import type { ReadOptions } from '../vmprof/types';

// Frames may hold spaces (`<frozen importlib._bootstrap>`): the metrics follow the last space.
const SAMPLE = /^P(\d+);T(?:(\d+):)?([0-9a-fA-Fx]+)((?:;.*)?) (-?\d+(?:,-?\d+)*)$/;
const FRAME = /^(.*):([^:]*):(\d+)$/;

export function isAustin(head: Uint8Array): boolean {
  const lines = headLines(head);
  if (lines[0]?.startsWith('# austin:')) return true;
  const first = lines.find((l) => !l.startsWith('#'));
  return first !== undefined && SAMPLE.test(first);
}

function bad(line: number, text: string, message: string): never {
  throw new ProfFormatError('bad-austin', `line ${line}: ${message}`, {
    record: JSON.stringify(text.slice(0, 120)),
  });
}

export function readAustin(input: string | Uint8Array, options: ReadOptions = {}): ProfileDocument {
  const b = new DocumentBuilder();
  const header: Record<string, string> = {};
  const pending: PendingSample[] = [];
  const threadClock = new Map<number, number>();
  let rssChange = 0;
  let hasMemory = false;
  let timed = true;

  const frameOf = (text: string): { row: number; line: number } => {
    const m = FRAME.exec(text);
    const file = m ? m[1] : '';
    const name = m ? m[2] : text;
    return {
      row: b.frame(`${name}\u0000${file}`, () => ({
        name,
        file,
        line: 0,
        kind: m ? FrameKind.Python : FrameKind.Native,
        raw: text,
        address: '',
      })),
      line: m ? Number(m[3]) : 0,
    };
  };

  const lines = textOf(input).split('\n');
  lines.forEach((raw, i) => {
    const text = raw.replace(/\r$/, '');
    if (!text.trim()) return;
    if (text.startsWith('# ')) {
      const colon = text.indexOf(': ');
      if (colon > 2) header[text.slice(2, colon)] = text.slice(colon + 2);
      return;
    }
    const m = SAMPLE.exec(text);
    if (!m) bad(i + 1, text, 'not a sample "P<pid>;T<iid>:<tid>;<file>:<function>:<line>;... <metric>"');
    const mode = header.mode ?? 'wall';
    const metrics = m[5].split(',').map(Number);
    const thread = b.thread(m[3].startsWith('0x') ? BigInt(m[3]).toString() : m[3]);
    let stack = -1;
    for (const part of m[4].split(';').slice(1)) {
      if (!part) continue;
      const f = frameOf(part);
      stack = b.stack(stack, f.row, f.line);
    }
    let timeUs: number | null = null;
    let memory: number | undefined;
    if (mode === 'full') {
      if (metrics.length !== 3) bad(i + 1, text, 'full mode needs three metrics "time,idle,memory"');
      timeUs = metrics[0];
      rssChange += metrics[2];
      memory = rssChange;
    } else if (mode === 'memory') {
      if (metrics.length !== 1) bad(i + 1, text, 'memory mode needs one metric (RSS change in bytes)');
      rssChange += metrics[0];
      memory = rssChange;
    } else {
      if (metrics.length !== 1) bad(i + 1, text, `${mode} mode needs one metric (µs)`);
      timeUs = metrics[0];
    }
    if (memory !== undefined) hasMemory = true;
    if (timeUs === null) {
      timed = false;
      pending.push({ stack, time: pending.length, thread, memory });
    } else {
      if (timeUs < 0) bad(i + 1, text, `time ${timeUs} µs is negative`);
      const clock = (threadClock.get(thread) ?? 0) + timeUs;
      threadClock.set(thread, clock);
      pending.push({ stack, time: clock / 1000, thread, weight: timeUs, memory });
    }
  });

  const durationUs = Number(header.duration);
  const warnings: DocumentWarning[] = [];
  if (!timed) {
    // Memory mode records no time: samples are spread over the run's duration when it is known.
    const step = Number.isFinite(durationUs) && pending.length ? durationUs / 1000 / pending.length : 1;
    for (let k = 0; k < pending.length; k++) pending[k].time = (k + 0.5) * step;
    warnings.push({
      code: 'no-time',
      message: 'Austin memory mode records no time: samples are spread evenly over the run',
    });
  }
  if (hasMemory) {
    warnings.push({
      code: 'memory-relative',
      message: 'Austin records RSS changes between samples: the memory series is the change since the first sample',
    });
  }
  // Full mode writes samples in thread order within a sampling round: put them in time order.
  pushInTimeOrder(b, pending);

  const meta = emptyMeta('austin');
  meta.interpreter = 'cpython';
  const interval = Number(header.interval);
  meta.periodUs = Number.isFinite(interval) ? interval : null;
  meta.tags = {
    profiler: header.austin ? `austin ${header.austin}` : 'austin',
    ...(header.mode ? { 'austin.mode': header.mode } : {}),
    ...(header.python ? { python: header.python } : {}),
  };
  if (options.project !== undefined) meta.project = options.project;
  if (options.name !== undefined) meta.name = options.name;
  if (options.tags) meta.tags = { ...meta.tags, ...options.tags };
  return b.finish({
    meta,
    warnings,
    timeEstimated: !timed,
    timeSource: timed ? 'recorded' : Number.isFinite(durationUs) ? 'spread-start-end' : 'none',
  });
}
