import { gzipDocument } from '@prof/format/node';
import type { ProfileDocument } from '@prof/format';
import { uploadBytes, UploadError, type UploadResult } from '../transport/http-upload';
import { spoolSync } from '../spool/spool-dir';
import { buildCallDocument, gzipDocumentSync, type CallMeta } from './node-document';
import type { V8CpuProfile } from './cpu-recording';
import type { MemoryPoint, MemorySampler, MemorySeries } from './memory-sampler';

/** What happened to one profiled call's profile. */
export type DeliveryOutcome =
  | { status: 'uploaded'; name: string; id: string; url: string }
  | { status: 'spooled'; name: string; path: string; reason: string }
  | { status: 'lost'; name: string; reason: string };

export interface DeliveryPlan {
  meta: CallMeta;
  server: string;
  token: string | null;
  spoolDir: string;
  uploadTimeoutMs: number;
  quiet: boolean;
  onDelivered?: (outcome: DeliveryOutcome) => void;
}

export interface RecordedCall {
  cpu: V8CpuProfile;
  /** The shared sampler, the call's range in it, and the readings taken at the call's two ends. */
  memory: { sampler: MemorySampler; rangeId: number; start: MemoryPoint; end: MemoryPoint } | null;
}

interface Pending {
  plan: DeliveryPlan;
  call: RecordedCall;
  bytes: Buffer | null;
  settled: boolean;
}

const pending = new Set<Pending>();
const idleWaiters: (() => void)[] = [];
let hooksInstalled = false;
let exitGraceMs = 3000;
let graceTimer: NodeJS.Timeout | null = null;

/** Sets how long a process that is about to exit waits for uploads before spooling them. */
export function setExitGrace(ms: number): void {
  exitGraceMs = ms;
}

/** Number of profiles not yet uploaded or spooled. */
export function pendingDeliveries(): number {
  return pending.size;
}

/**
 * Resolves once every profile taken so far is uploaded or spooled. After `timeoutMs` the rest is
 * spooled, so `await flushProfiles(); process.exit()` never loses a profile.
 */
export function flushProfiles(timeoutMs = exitGraceMs): Promise<void> {
  if (pending.size === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      spoolAllPending('flush timeout');
      resolve();
    }, timeoutMs);
    idleWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Hands a finished call to the background: convert, gzip, upload, else spool. Never throws. */
export function deliver(plan: DeliveryPlan, call: RecordedCall): void {
  installHooks();
  const p: Pending = { plan, call, bytes: null, settled: false };
  pending.add(p);
  setImmediate(() => {
    run(p).catch((e: unknown) => settle(p, { status: 'lost', name: plan.meta.name, reason: errorText(e) }));
  });
}

async function run(p: Pending): Promise<void> {
  const memory = p.call.memory ? collectMemory(p.call.memory) : null;
  if (p.settled) return;
  const doc = buildCallDocument(p.call.cpu, memory, p.plan.meta);
  const bytes = await gzipDocument(doc);
  p.bytes = bytes;
  if (p.settled) return;
  try {
    const result = await uploadBytes(
      bytes,
      { server: p.plan.server, token: p.plan.token, ...p.plan.meta },
      { timeoutMs: p.plan.uploadTimeoutMs, unref: true },
    );
    settle(p, uploaded(p, result));
  } catch (e) {
    spoolOne(p, errorText(e));
  }
}

function uploaded(p: Pending, r: UploadResult): DeliveryOutcome {
  return { status: 'uploaded', name: p.plan.meta.name, id: r.id, url: r.url };
}

/** Synchronous, so the same path serves the 'exit' handler. */
function collectMemory(m: NonNullable<RecordedCall['memory']>): MemorySeries {
  return m.sampler.seriesOf(m.rangeId, m.start, m.end);
}

/** Synchronous from start to end: it also runs inside process 'exit'. */
function spoolOne(p: Pending, reason: string): void {
  if (p.settled) return;
  try {
    if (!p.bytes) {
      const memory = p.call.memory ? collectMemory(p.call.memory) : null;
      const doc: ProfileDocument = buildCallDocument(p.call.cpu, memory, p.plan.meta);
      p.bytes = gzipDocumentSync(doc);
    }
    const entry = spoolSync(p.plan.spoolDir, p.bytes, {
      server: p.plan.server,
      project: p.plan.meta.project,
      name: p.plan.meta.name,
      tags: p.plan.meta.tags,
      reason,
    });
    if (!p.plan.quiet) {
      process.stderr.write(
        `prof: profile of ${p.plan.meta.name} not uploaded (${reason}); spooled to ${entry.dataPath}; send it with: prof upload --spool\n`,
      );
    }
    settle(p, { status: 'spooled', name: p.plan.meta.name, path: entry.dataPath, reason });
  } catch (e) {
    if (!p.plan.quiet)
      process.stderr.write(`prof: profile of ${p.plan.meta.name} lost: ${reason}; spooling failed: ${errorText(e)}\n`);
    settle(p, { status: 'lost', name: p.plan.meta.name, reason: `${reason}; spooling failed: ${errorText(e)}` });
  }
}

function spoolAllPending(reason: string): void {
  for (const p of [...pending]) spoolOne(p, reason);
}

function settle(p: Pending, outcome: DeliveryOutcome): void {
  if (p.settled) return;
  p.settled = true;
  pending.delete(p);
  try {
    p.plan.onDelivered?.(outcome);
  } catch {
    // a user callback must not break delivery of the other profiles
  }
  if (pending.size === 0) {
    if (graceTimer) clearTimeout(graceTimer);
    graceTimer = null;
    for (const w of idleWaiters.splice(0)) w();
  }
}

/**
 * Uploads hold no ref on the event loop, so a program that is done is not kept alive by a slow
 * server; when it is about to exit, 'beforeExit' grants the uploads a bounded grace period, then
 * spools what is left. 'exit' (also reached through process.exit()) spools synchronously.
 */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('beforeExit', () => {
    if (pending.size === 0 || graceTimer) return;
    graceTimer = setTimeout(() => {
      graceTimer = null;
      spoolAllPending(`upload not finished within ${exitGraceMs} ms before exit`);
    }, exitGraceMs);
  });
  process.on('exit', () => spoolAllPending('process exited before the upload finished'));
}

function errorText(e: unknown): string {
  if (e instanceof UploadError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
