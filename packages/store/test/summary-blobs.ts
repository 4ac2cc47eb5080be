// What every store does with summary blobs, run against the embedded store (store.test.ts) and the
// shared one (shared-store.test.ts).
import { expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { CompositeProfileStore } from '../src/index';
import { fields } from './rows';

/** A container-sized blob in parts (as `SummariesBuilder.finish()` returns it). */
export function summaryParts(size: number): { parts: Uint8Array[]; whole: Buffer } {
  const whole = randomBytes(size);
  const cut = [0, Math.floor(size / 3), Math.floor(size / 2), size];
  return { parts: cut.slice(1).map((end, i) => whole.subarray(cut[i], end)), whole };
}

export async function checkSummaryBlobs(store: CompositeProfileStore): Promise<void> {
  const row = await store.put(Buffer.from('document'), fields());
  expect(await store.openSummary(row.id)).toBeNull();
  const { parts, whole } = summaryParts(70_000);
  await store.putSummary(row.id, parts);
  const reader = (await store.openSummary(row.id))!;
  try {
    expect(reader.size).toBe(whole.byteLength);
    for (const [offset, length] of [
      [0, 32],
      [4096, 8192],
      [whole.byteLength - 5, 5],
    ]) {
      expect(Buffer.from(await reader.read(offset, length)).equals(whole.subarray(offset, offset + length))).toBe(true);
    }
  } finally {
    await reader.close();
  }
  // A container too long to hold is given as a stream of its bytes (opened per attempt).
  const streamed = await store.put(Buffer.from('streamed'), fields());
  const big = summaryParts(300_000);
  await store.putSummary(streamed.id, {
    size: big.whole.byteLength,
    async *open() {
      for (const part of big.parts) yield part.slice();
    },
  });
  const back = (await store.openSummary(streamed.id))!;
  try {
    expect(back.size).toBe(big.whole.byteLength);
    expect(Buffer.from(await back.read(0, back.size)).equals(big.whole)).toBe(true);
  } finally {
    await back.close();
  }
  expect(await store.delete(streamed.id)).toBe(true);
  // Deleted with its document.
  expect(await store.delete(row.id)).toBe(true);
  expect(await store.openSummary(row.id)).toBeNull();
  // Pruned with its document.
  const old = await store.put(Buffer.from('old'), fields(), { uploadedAt: 1 });
  await store.putSummary(old.id, parts);
  expect((await store.prune({ olderThanMs: 1000 })).deleted).toEqual([old.id]);
  expect(await store.openSummary(old.id)).toBeNull();
  // A summary whose document is gone is dropped by the next repair or sweep.
  const kept = await store.put(Buffer.from('kept'), fields());
  await store.putSummary(kept.id, parts);
  const orphan = await store.put(Buffer.from('orphan'), fields());
  await store.putSummary(orphan.id, parts);
  await store.blobs.delete(orphan.id);
  expect(await store.blobs.listSummaries()).toHaveLength(2);
  await expect(store.putSummary('../escape', parts)).rejects.toThrow();
}
