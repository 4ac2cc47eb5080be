import type { CallTree, FunctionCalls, FunctionTable } from '@prof/binning';
import type { LineRow } from '@prof/binning';

// Messages between the page and the profile worker. The worker owns the decoded document; the page
// only ever receives compact typed arrays (transferred, not copied) and the frame strings once.

export interface FrameInfo {
  name: string[];
  file: string[];
  line: Int32Array;
  kind: Uint8Array;
}

export interface DocInfo {
  meta: {
    project: string | null;
    name: string | null;
    interpreter: string | null;
    startTime: number | null;
    endTime: number | null;
    zone: string | null;
    argv: string[] | null;
    host: string | null;
    source: string;
    tags: Record<string, string>;
  };
  frames: FrameInfo;
  threads: { id: string; name: string | null; samples: number }[];
  sampleCount: number;
  durationMs: number;
  hasMemory: boolean;
  timeEstimated: boolean;
  weighted: boolean;
  /** Stacks record the executing line (vmprof --lines): the function pane can list lines. */
  hasLines: boolean;
  /** Some stacks start with launcher frames (runpy, vmprof's CLI), hidden from the tree unless asked for. */
  hasRunnerFrames: boolean;
  /** How the sample times were obtained; `none`: no time recorded, the duration is unknown. */
  timeSource: string;
  warnings: { code: string; message: string }[];
}

/** @prof/binning's CallTree without the per-stack-row map the page does not need. */
export type CallTreeData = Omit<CallTree, 'stackNode'>;

export type FunctionRows = Omit<FunctionTable, never>;

export interface RangeQuery {
  from: number | null;
  to: number | null;
  thread: number | null;
}

export type ToWorker =
  | { kind: 'load'; url: string }
  | ({ kind: 'tree'; req: number; runner?: boolean } & RangeQuery)
  | ({ kind: 'functions'; req: number } & RangeQuery)
  | ({ kind: 'calls'; req: number; frame: number } & RangeQuery)
  | ({ kind: 'lines'; req: number; frame: number } & RangeQuery)
  | ({ kind: 'speedscope'; req: number; title: string } & RangeQuery);

export type FromWorker =
  | { kind: 'progress'; phase: 'download' | 'decode' | 'index'; loaded: number }
  | { kind: 'ready'; info: DocInfo }
  | { kind: 'error'; message: string; status?: number; req?: number }
  | { kind: 'tree'; req: number; tree: CallTreeData }
  | { kind: 'functions'; req: number; table: FunctionRows }
  | { kind: 'calls'; req: number; calls: FunctionCalls }
  | { kind: 'lines'; req: number; lines: LineRow[] }
  | { kind: 'speedscope'; req: number; json: string };
