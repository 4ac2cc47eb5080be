import type { CallTree, FunctionTable } from '@prof/binning';

// What the CPU view reads: the profile's facts and frame table (`/api/profiles/:id/cpu`), range
// answers from the server, and the range the export worker is asked for.

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

/**
 * The server's pruned call tree of a range (`/api/profiles/:id/cpu/tree`, @prof/binning's
 * PrunedCallTree): `cut[n]` is the weight of node n's children too thin to send, `cutCount[n]` how many.
 */
export type CallTreeData = Omit<CallTree, 'stackNode'> & { cut: Float64Array; cutCount: Int32Array };

export type FunctionRows = Omit<FunctionTable, never>;

export interface RangeQuery {
  from: number | null;
  to: number | null;
  thread: number | null;
}
