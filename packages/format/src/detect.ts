import { isAustin } from './austin/reader';
import { isFolded } from './folded/reader';
import { DOCUMENT_MAGIC } from './schema';
import { isSpeedscope } from './speedscope/reader';
import { isVmprofTree } from './vmprof-tree/reader';
import { isVmprofViewerSubmit } from './vmprof-viewer/reader';

export type DetectedFormat =
  | 'vmprof'
  | 'gzip'
  | 'v8-cpuprofile'
  | 'prof-document'
  | 'speedscope'
  | 'austin'
  | 'folded'
  | 'vmprof-viewer'
  | 'vmprof-tree'
  | 'unknown';

/** How many leading bytes `detectFormat` wants to see (it works with fewer, less surely for JSON). */
export const DETECT_HEAD_BYTES = 4096;

function zeros(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * vmprof's static header: the words 0, 3, 0 with 8-byte or 4-byte words (format doc §3).
 * Big-endian headers count too, so the reader can refuse them by name (`big-endian`).
 */
function isVmprofHeader(b: Uint8Array): boolean {
  if (b.length >= 24 && zeros(b, 0, 8) && b[8] === 3 && zeros(b, 9, 24)) return true;
  if (b.length >= 24 && zeros(b, 0, 15) && b[15] === 3 && zeros(b, 16, 24)) return true;
  if (b.length >= 12 && zeros(b, 0, 7) && b[7] === 3 && zeros(b, 8, 12)) return true;
  return b.length >= 12 && zeros(b, 0, 4) && b[4] === 3 && zeros(b, 5, 12);
}

const MAGIC_PATTERN = [
  0xa5,
  ...new TextEncoder().encode('magic'),
  0xa0 + DOCUMENT_MAGIC.length,
  ...new TextEncoder().encode(DOCUMENT_MAGIC),
];

/** A msgpack map (fixmap, map16, map32) whose first entry is `magic: "prof.profile"`. */
function isProfDocument(b: Uint8Array): boolean {
  const skip = b[0] >= 0x80 && b[0] <= 0x8f ? 1 : b[0] === 0xde ? 3 : b[0] === 0xdf ? 5 : -1;
  if (skip < 0 || b.length < skip + MAGIC_PATTERN.length) return false;
  return MAGIC_PATTERN.every((byte, i) => b[skip + i] === byte);
}

/** A JSON object mentioning `nodes` with `samples` or `callFrame`: a V8 `.cpuprofile`. */
function isV8CpuProfile(b: Uint8Array): boolean {
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  if (b[i] !== 0x7b) return false; // '{'
  const text = new TextDecoder().decode(b.subarray(i, Math.min(b.length, i + DETECT_HEAD_BYTES)));
  return /"nodes"\s*:/.test(text) && (/"samples"\s*:/.test(text) || /"callFrame"\s*:/.test(text));
}

/**
 * Tells the format from the first bytes of a file (pass `DETECT_HEAD_BYTES` of them), never from
 * its name: gzip (`1f 8b`; inflate and ask again), a vmprof `.prof`, a V8 `.cpuprofile`, a
 * Prof document (msgpack, not gzipped), speedscope JSON (py-spy), Austin text or folded stacks, or an
 * upload body of the vmprof clients' own protocols (a vmprof-viewer submit map, a 0.1-0.3 call tree).
 */
export function detectFormat(head: Uint8Array): DetectedFormat {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (isVmprofHeader(head)) return 'vmprof';
  if (isProfDocument(head)) return 'prof-document';
  if (isVmprofViewerSubmit(head)) return 'vmprof-viewer';
  if (isV8CpuProfile(head)) return 'v8-cpuprofile';
  if (isSpeedscope(head)) return 'speedscope';
  if (isVmprofTree(head)) return 'vmprof-tree';
  // Austin's samples are folded stacks too, with a `P<pid>;T<tid>` root and `# austin:` header.
  if (isAustin(head)) return 'austin';
  if (isFolded(head)) return 'folded';
  return 'unknown';
}
