// One per open profile. The CPU views ask the server for each range (call tree pruned to a screen,
// function table, callers/callees, lines): the browser never holds every sample, so a 24-hour
// profile opens like a 4-minute one. A worker decodes the whole document only for the speedscope
// export, and only when asked.
import type { FunctionCalls, LineRow } from '@prof/binning';
import type { Remote } from 'comlink';
import { ApiError, getJson } from '../lib/api';
import type { ResponseName } from '../lib/checks';
import type { CallTreeData, DocInfo, FunctionRows, RangeQuery } from '../worker/protocol';
import type { ProfileWorkerApi } from '../worker/profileWorker';

export type LoadState =
  | { phase: 'download' | 'decode' | 'index'; loaded: number }
  | { phase: 'ready'; info: DocInfo }
  | { phase: 'error'; message: string; status?: number };

const enc = encodeURIComponent;
/** Call trees kept per session (each at most a screen's worth of nodes). */
const TREES_KEPT = 8;

export class ProfileSession {
  state: LoadState = { phase: 'download', loaded: 0 };
  private listeners = new Set<() => void>();
  private started = false;
  private worker: Worker | null = null;
  private workerReady: Promise<Remote<ProfileWorkerApi>> | null = null;
  private readonly trees = new Map<string, Promise<CallTreeData>>();

  constructor(
    readonly id: string,
    private readonly documentUrl: string,
  ) {}

  /** Fetches the profile's facts and frame table (once): small, whatever the run's length. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.get('', 'CpuInfoResponse')
      .then((r) =>
        this.setState({
          phase: 'ready',
          info: {
            ...r,
            frames: {
              name: r.frames.name,
              file: r.frames.file,
              line: Int32Array.from(r.frames.line),
              kind: Uint8Array.from(r.frames.kind),
            },
          },
        }),
      )
      .catch((e: Error) =>
        this.setState({ phase: 'error', message: e.message, status: e instanceof ApiError ? e.status : undefined }),
      );
  }

  /** A CPU view of this profile (`/cpu` + `path`) for a range, checked against its @prof/api schema. */
  private get<N extends ResponseName>(
    path: string,
    name: N,
    q?: RangeQuery,
    extra: Record<string, string | number | boolean> = {},
  ) {
    const params = new URLSearchParams();
    if (q?.from != null) params.set('from', String(q.from));
    if (q?.to != null) params.set('to', String(q.to));
    if (q?.thread != null) params.set('thread', String(q.thread));
    for (const [k, v] of Object.entries(extra)) params.set(k, String(v));
    const s = params.toString();
    return getJson(`/api/profiles/${enc(this.id)}/cpu${path}${s ? `?${s}` : ''}`, name);
  }

  private setState(s: LoadState): void {
    this.state = s;
    for (const l of this.listeners) l();
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  /**
   * Starts what the CPU tab will draw first while another view is shown: the description and the
   * tree of the current range, so a click on the tab only lays it out.
   */
  prefetch(q: RangeQuery, runner: boolean): void {
    this.start();
    this.tree(q, runner).catch(() => {
      /* the CPU view asks again and shows the error */
    });
  }

  /** The call tree of a range, cut by the server to what a screen shows; launcher frames at the root are cut unless `runner`. */
  tree(q: RangeQuery, runner = false): Promise<CallTreeData> {
    const key = `${q.from}|${q.to}|${q.thread}|${runner}`;
    let pending = this.trees.get(key);
    if (!pending) {
      pending = this.fetchTree(q, runner);
      // A few recent ranges are kept (going back to the whole run is instant); a failure is not.
      if (this.trees.size >= TREES_KEPT) this.trees.delete(this.trees.keys().next().value as string);
      this.trees.set(key, pending);
      pending.catch(() => this.trees.delete(key));
    }
    return pending;
  }

  private async fetchTree(q: RangeQuery, runner: boolean): Promise<CallTreeData> {
    const r = await this.get('/tree', 'CpuTreeResponse', q, runner ? { runner: 1 } : {});
    const n = r.nodes;
    const col = <A>(make: { from(x: number[]): A }, key: Exclude<keyof typeof n, 'length'>) => make.from(n[key]);
    return {
      length: n.length,
      frame: col(Int32Array, 'frame'),
      parent: col(Int32Array, 'parent'),
      depth: col(Int32Array, 'depth'),
      self: col(Float64Array, 'self'),
      total: col(Float64Array, 'total'),
      subtreeEnd: col(Int32Array, 'subtreeEnd'),
      offset: col(Float64Array, 'offset'),
      cut: col(Float64Array, 'cut'),
      cutCount: col(Int32Array, 'cutCount'),
      samples: r.samples,
    };
  }

  async functions(q: RangeQuery): Promise<FunctionRows> {
    const r = await this.get('/functions', 'CpuFunctionsResponse', q);
    const f = r.functions;
    return {
      length: f.length,
      frame: Uint32Array.from(f.frame),
      self: Float64Array.from(f.self),
      total: Float64Array.from(f.total),
      samples: r.samples,
      weightTotal: r.weightTotal,
    };
  }

  calls(q: RangeQuery, frame: number): Promise<FunctionCalls> {
    return this.get('/calls', 'CpuCallsResponse', q, { frame });
  }

  async lines(q: RangeQuery, frame: number): Promise<LineRow[]> {
    return (await this.get('/lines', 'CpuLinesResponse', q, { frame })).lines;
  }

  /** Speedscope JSON of a range: the one thing that needs every sample, so the document is decoded for it. */
  async speedscope(q: RangeQuery, title: string): Promise<string> {
    return (await this.startWorker()).speedscope(q, title);
  }

  private startWorker(): Promise<Remote<ProfileWorkerApi>> {
    if (this.workerReady) return this.workerReady;
    const worker = new Worker(new URL('../worker/profileWorker.ts', import.meta.url), {
      type: 'module',
      name: 'profile',
    });
    this.worker = worker;
    // A worker that fails to start answers no call: its error event ends the wait.
    const failed = new Promise<never>((_, reject) =>
      worker.addEventListener('error', (ev) => reject(new Error(ev.message || 'the profile worker failed'))),
    );
    // Comlink loads with the first export, not with the page (+1.5 KB gzipped on the main bundle).
    const loaded = import('comlink').then(async ({ wrap }) => {
      const api = wrap<ProfileWorkerApi>(worker);
      await api.load(this.documentUrl);
      return api;
    });
    this.workerReady = Promise.race([loaded, failed]);
    // A failed load is retried on the next export rather than remembered.
    this.workerReady.catch(() => {
      this.workerReady = null;
      worker.terminate();
    });
    return this.workerReady;
  }

  dispose(): void {
    this.worker?.terminate();
    this.listeners.clear();
  }
}
