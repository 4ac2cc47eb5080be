// One worker per open profile, started when a view first needs the document. Exposes load state for
// the UI and promise-based queries; a newer query for the same purpose makes older answers irrelevant
// (the caller checks its own sequence).
import type { FunctionCalls } from '@prof/binning';
import type { LineRow } from '@prof/binning';
import type { CallTreeData, DocInfo, FromWorker, FunctionRows, RangeQuery, ToWorker } from '../worker/protocol';

export type LoadState =
  | { phase: 'download' | 'decode' | 'index'; loaded: number }
  | { phase: 'ready'; info: DocInfo }
  | { phase: 'error'; message: string; status?: number };

export class ProfileSession {
  state: LoadState = { phase: 'download', loaded: 0 };
  private worker: Worker | null = null;
  private listeners = new Set<() => void>();
  private pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextReq = 1;

  private started = false;

  constructor(
    readonly id: string,
    private readonly documentUrl: string,
  ) {}

  /**
   * Starts downloading and decoding the document (once). The memory view does not need it, so a
   * page opening on memory starts it after the chart's first paint: on a loaded machine the decode
   * would otherwise compete with the chart for the CPU.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const worker = new Worker(new URL('../worker/profileWorker.ts', import.meta.url), {
      type: 'module',
      name: 'profile',
    });
    worker.onmessage = (ev: MessageEvent<FromWorker>) => this.onMessage(ev.data);
    worker.onerror = (ev) => this.setState({ phase: 'error', message: ev.message || 'the profile worker failed' });
    this.worker = worker;
    this.send({ kind: 'load', url: this.documentUrl });
  }

  private send(msg: ToWorker): void {
    this.start();
    this.worker!.postMessage(msg);
  }

  private setState(s: LoadState): void {
    this.state = s;
    for (const l of this.listeners) l();
  }

  private onMessage(msg: FromWorker): void {
    if (msg.kind === 'progress') this.setState({ phase: msg.phase, loaded: msg.loaded });
    else if (msg.kind === 'ready') this.setState({ phase: 'ready', info: msg.info });
    else if (msg.kind === 'error') {
      if (msg.req !== undefined) {
        this.pending.get(msg.req)?.reject(new Error(msg.message));
        this.pending.delete(msg.req);
      } else if (this.state.phase !== 'ready')
        this.setState({ phase: 'error', message: msg.message, status: msg.status });
      else console.error('profile worker:', msg.message);
    } else if (msg.kind === 'tree') this.resolve(msg.req, msg.tree);
    else if (msg.kind === 'speedscope') this.resolve(msg.req, msg.json);
    else if (msg.kind === 'functions') this.resolve(msg.req, msg.table);
    else if (msg.kind === 'calls') this.resolve(msg.req, msg.calls);
    else if (msg.kind === 'lines') this.resolve(msg.req, msg.lines);
  }

  private resolve(req: number, value: unknown): void {
    const r = this.pending.get(req);
    this.pending.delete(req);
    r?.resolve(value);
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  /** The call tree of a range; launcher frames at the root are cut unless `runner`. */
  tree(q: RangeQuery, runner = false): Promise<CallTreeData> {
    return this.ask((req) => ({ kind: 'tree', req, runner, ...q }));
  }

  speedscope(q: RangeQuery, title: string): Promise<string> {
    return this.ask((req) => ({ kind: 'speedscope', req, title, ...q }));
  }

  functions(q: RangeQuery): Promise<FunctionRows> {
    return this.ask((req) => ({ kind: 'functions', req, ...q }));
  }

  calls(q: RangeQuery, frame: number): Promise<FunctionCalls> {
    return this.ask((req) => ({ kind: 'calls', req, frame, ...q }));
  }

  lines(q: RangeQuery, frame: number): Promise<LineRow[]> {
    return this.ask((req) => ({ kind: 'lines', req, frame, ...q }));
  }

  private ask<T>(make: (req: number) => ToWorker): Promise<T> {
    const req = this.nextReq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req, { resolve: resolve as (v: unknown) => void, reject });
      this.send(make(req));
    });
  }

  dispose(): void {
    this.worker?.terminate();
    this.listeners.clear();
  }
}
