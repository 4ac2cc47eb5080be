import { readVmprofDetailed } from './reader';
import { decodeUtf8 } from './text';
import type { VmprofReadResult, VmprofSymbolRecord } from './types';

/**
 * vmprof quirks that need the raw bytes, not just the read result. Used by `inspectVmprof` only, so
 * `inspectFromResult` stays a pure function of the result.
 */

/**
 * vmprof reads a name with `read(length)`, which returns fewer bytes at the end of the file without
 * complaint: a file cut inside a name record's name still counts that record, with the shortened
 * name (bad/truncated-in-name.prof: `py:<module`). Prof's reader drops the unfinished record (and
 * warns); this recovers what vmprof shows. Null unless the file ends inside a name of a `0x02`/`0x08`
 * record whose id and length word are complete (vmprof fails on those otherwise).
 */
export function cutShortNameRecord(bytes: Uint8Array, result: VmprofReadResult): VmprofSymbolRecord | null {
  const info = result.document.meta.vmprof;
  if (!info || result.end.reason !== 'eof') return null;
  const at = result.end.offset;
  const marker = bytes[at];
  if (marker !== 0x02 && marker !== 0x08) return null;
  const { addrSize: a, wordSize: w } = info;
  if (at + 1 + a + w > bytes.length) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = w === 8 ? Number(dv.getBigInt64(at + 1 + a, true)) : dv.getInt32(at + 1 + a, true);
  const start = at + 1 + a + w;
  const available = bytes.length - start;
  if (length <= available || length < 0) return null;
  const id = a === 8 ? dv.getBigInt64(at + 1, true) : BigInt(dv.getInt32(at + 1, true));
  const { text, valid } = decodeUtf8(bytes.subarray(start, bytes.length));
  return {
    address: id < 0n ? `-0x${(-id).toString(16)}` : `0x${id.toString(16)}`,
    name: text,
    invalidUtf8: !valid,
    offset: at,
    marker,
  };
}

/**
 * Byte offset of the stack record of sample `index`. The result does not keep record offsets, so
 * this finds the shortest prefix of the file that holds `index + 1` complete samples (binary search,
 * about 20 re-reads; only used to locate a rare problem) and steps back over the record's size.
 */
export function sampleRecordOffset(bytes: Uint8Array, result: VmprofReadResult, index: number): number | undefined {
  const info = result.document.meta.vmprof;
  if (!info) return undefined;
  const samplesIn = (length: number): number => {
    try {
      return readVmprofDetailed(bytes.subarray(0, length)).document.samples.length;
    } catch {
      return 0;
    }
  };
  let lo = 0;
  let hi = result.end.reason === 'trailer' ? result.end.offset : bytes.length;
  if (samplesIn(hi) <= index) return undefined;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (samplesIn(mid) > index) hi = mid;
    else lo = mid + 1;
  }
  const { stacks, samples } = result.document;
  let frames = 0;
  for (let r = samples.stack[index]; r >= 0; r = stacks.parent[r]) frames++;
  const slots = info.lines || info.rpython ? 2 * frames : frames;
  const head = 1 + (info.version >= 7 ? 8 : info.wordSize) + info.wordSize;
  const tail = (info.version >= 1 ? info.addrSize : 0) + (info.memory ? info.addrSize : 0);
  return lo - (head + slots * info.addrSize + tail);
}
