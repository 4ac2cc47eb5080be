import { hostname } from 'node:os';
import { gzipSync } from 'node:zlib';
import { encodeDocument, readV8CpuProfile, type ProfileDocument } from '@prof/format';
import { CLIENT_PRODUCER } from '../producer';
import { monotonicToEpochMs } from './clock';
import type { V8CpuProfile } from './cpu-recording';
import type { MemorySeries } from './memory-sampler';

export interface CallMeta {
  project: string | null;
  name: string;
  tags: Record<string, string>;
}

/** Turns one recorded call into a profile document, memory on the same wall clock as the samples. */
export function buildCallDocument(profile: V8CpuProfile, memory: MemorySeries | null, meta: CallMeta): ProfileDocument {
  const wallClockStartMs = monotonicToEpochMs(profile.startTime / 1000);
  const doc = readV8CpuProfile(profile, {
    wallClockStartMs,
    project: meta.project ?? undefined,
    name: meta.name,
    tags: meta.tags,
    interpreter: `node ${process.version}`,
    argv: process.argv.slice(),
    host: hostname(),
    zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    memory:
      memory && memory.time.length > 0
        ? { time: memory.time.map(monotonicToEpochMs), bytes: memory.rss, heap: memory.heap }
        : undefined,
  });
  doc.meta.source = 'node-client';
  doc.producer = { ...CLIENT_PRODUCER };
  return doc;
}

/** The `.msgpack.gz` bytes, synchronously (usable from a process 'exit' handler). */
export function gzipDocumentSync(doc: ProfileDocument): Buffer {
  return gzipSync(encodeDocument(doc));
}
