// Web worker owning one decoded profile document: download (with progress), decode, then answer
// range/thread queries, so the page stays responsive on 60 MB profiles.
import { decodeDocument, runnerStackRows, type ProfileDocument } from '@prof/format';
import { aggregateCallTree, functionCalls, functionTable, hasLines, lineTable } from '@prof/binning';
import { sampleRun } from './sampleRun';
import { toSpeedscope } from './speedscope';
import type { DocInfo, FromWorker, ToWorker } from './protocol';

let doc: ProfileDocument | null = null;
let runnerRows: Uint8Array | null = null;
let withoutRunner: ProfileDocument['stacks'] | null = null;

/**
 * The stack tree with launcher frames cut from the root (as vmprof's own tree shows it): a stack
 * below them becomes a root. A sample that never left them keeps its stack.
 */
function stacksWithoutRunner(d: ProfileDocument): ProfileDocument['stacks'] {
  if (withoutRunner) return withoutRunner;
  const rows = runnerRows ?? runnerStackRows(d);
  const parent = d.stacks.parent.slice();
  for (let i = 0; i < parent.length; i++) if (!rows[i] && parent[i] >= 0 && rows[parent[i]]) parent[i] = -1;
  withoutRunner = { ...d.stacks, parent };
  return withoutRunner;
}

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

async function download(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      /* keep the status line */
    }
    const err = new Error(message) as Error & { status?: number };
    err.status = res.status;
    throw err;
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (loaded - lastReport > 1 << 20) {
      lastReport = loaded;
      post({ kind: 'progress', phase: 'download', loaded });
    }
  }
  const bytes = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return bytes;
}

function describe(d: ProfileDocument): DocInfo {
  const perThread = new Array<number>(d.threads.length).fill(0);
  for (let i = 0; i < d.samples.length; i++) perThread[d.samples.thread[i]]++;
  const last = d.samples.length ? d.samples.time[d.samples.length - 1] : 0;
  const m = d.meta;
  const span = m.startTime !== null && m.endTime !== null ? m.endTime - m.startTime : 0;
  return {
    meta: {
      project: m.project,
      name: m.name,
      interpreter: m.interpreter,
      startTime: m.startTime,
      endTime: m.endTime,
      zone: m.zone,
      argv: m.argv,
      host: m.host,
      source: m.source,
      tags: m.tags,
    },
    frames: {
      name: Array.from(d.frames.name, (s) => d.strings[s]),
      file: Array.from(d.frames.file, (s) => d.strings[s]),
      line: d.frames.line.slice(),
      kind: d.frames.kind.slice(),
    },
    threads: d.threads.id.map((id, i) => ({ id, name: d.threads.name[i], samples: perThread[i] })),
    sampleCount: d.samples.length,
    durationMs: Math.max(last, span),
    hasMemory: d.samples.memory !== null,
    timeEstimated: d.samples.timeEstimated,
    weighted: d.samples.weight !== null,
    hasLines: hasLines(d.stacks),
    hasRunnerFrames: (runnerRows ?? []).some((v) => v === 1),
    timeSource: d.samples.timeSource,
    warnings: d.warnings.map((w) => ({ code: w.code, message: w.message })),
  };
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  try {
    if (msg.kind === 'load') {
      const bytes = await download(msg.url);
      post({ kind: 'progress', phase: 'decode', loaded: bytes.length });
      const decoded = decodeDocument(bytes);
      doc = decoded;
      runnerRows = runnerStackRows(decoded);
      withoutRunner = null;
      post({ kind: 'progress', phase: 'index', loaded: bytes.length });
      post({ kind: 'ready', info: describe(decoded) });
    } else if (msg.kind === 'tree') {
      if (!doc) throw new Error('profile not loaded');
      const stacks = msg.runner ? doc.stacks : stacksWithoutRunner(doc);
      const { stackNode: _unused, ...tree } = aggregateCallTree(stacks, doc.samples.stack, {
        ...sampleRun(doc, msg),
        weight: doc.samples.weight ?? undefined,
      });
      post({ kind: 'tree', req: msg.req, tree }, [
        tree.frame.buffer,
        tree.parent.buffer,
        tree.self.buffer,
        tree.total.buffer,
        tree.depth.buffer,
        tree.subtreeEnd.buffer,
        tree.offset.buffer,
      ]);
    } else if (msg.kind === 'functions') {
      if (!doc) throw new Error('profile not loaded');
      const table = functionTable(doc.stacks, doc.samples.stack, {
        ...sampleRun(doc, msg),
        weight: doc.samples.weight ?? undefined,
      });
      post({ kind: 'functions', req: msg.req, table });
    } else if (msg.kind === 'calls') {
      if (!doc) throw new Error('profile not loaded');
      const calls = functionCalls(doc.stacks, doc.samples.stack, msg.frame, {
        ...sampleRun(doc, msg),
        weight: doc.samples.weight ?? undefined,
      });
      post({ kind: 'calls', req: msg.req, calls });
    } else if (msg.kind === 'lines') {
      if (!doc) throw new Error('profile not loaded');
      const lines = lineTable(doc.stacks, doc.samples.stack, msg.frame, {
        ...sampleRun(doc, msg),
        weight: doc.samples.weight ?? undefined,
      });
      post({ kind: 'lines', req: msg.req, lines });
    } else if (msg.kind === 'speedscope') {
      if (!doc) throw new Error('profile not loaded');
      post({ kind: 'speedscope', req: msg.req, json: toSpeedscope(doc, msg, msg.title) });
    }
  } catch (err) {
    const e = err as Error & { status?: number; code?: string };
    const message = e.code ? `${e.code}: ${e.message}` : e.message;
    post({ kind: 'error', message, status: e.status, req: 'req' in msg ? msg.req : undefined });
  }
};
