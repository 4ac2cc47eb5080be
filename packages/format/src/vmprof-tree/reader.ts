// vmprof 0.1-0.3's call-tree upload (protocols A/B, docs/formats/vmprof-upload-protocol.md §5): a JSON
// object `{"VM", "profiles": [name, addr, count, meta, children], "argv"}`.
import { DocumentBuilder, emptyMeta } from '../builder';
import { ProfFormatError } from '../errors';
import type { ProfileDocument } from '../schema';
import { frameFromVmprofName } from '../vmprof/names';
import { integerHex } from '../vmprof/words';

/** Most samples a tree may claim: counts come from the client, so they bound our memory (16 B each). */
const MAX_TREE_SAMPLES = 5_000_000;
/**
 * ... and at most this many per byte of body (at least `MIN_CLAIM`): a 40-byte body claiming 20 million
 * samples cost 741 MB and 6 s. Real trees hold a node (~40 bytes and up) per distinct stack.
 */
const SAMPLES_PER_BODY_BYTE = 1000;
const MIN_CLAIM = 100_000;
const MAX_DEPTH = 10_000;
/** An address longer than this is no address (and BigInt of megabytes of digits takes seconds). */
const MAX_ADDRESS_DIGITS = 20;
/** vmprof's default sampling period; these uploads carry no time, so samples are spread by it. */
const DEFAULT_PERIOD_MS = 1;

const claimLimit = (bodyBytes: number) =>
  Math.min(MAX_TREE_SAMPLES, Math.max(MIN_CLAIM, bodyBytes * SAMPLES_PER_BODY_BYTE));

/** A node met in the walk: enough to name its path in an error without building every path. */
interface Visit {
  node: unknown;
  parentStack: number;
  depth: number;
  index: number;
  up: Visit | null;
  /** Set once the node's stack exists: the second time it is popped, its samples are added. */
  stack?: number;
}

function pathOf(visit: Visit): string {
  const parts: number[] = [];
  for (let v: Visit | null = visit; v?.up; v = v.up) parts.push(v.index);
  return ['root', ...parts.reverse()].join('.');
}

/**
 * Every node's self count (inclusive count minus its children's) becomes that many samples of its
 * stack, children first, as a recursive walk would do, but with an explicit stack: a tree thousands
 * deep cannot overflow the call stack.
 */
function walkTree(root: unknown[], builder: DocumentBuilder, thread: number, limit: number): void {
  let total = 0;
  let time = 0;
  const pending: Visit[] = [{ node: root, parentStack: -1, depth: 0, index: 0, up: null }];
  while (pending.length) {
    const visit = pending.pop()!;
    const node = visit.node as [string, unknown, number, unknown, unknown[]];
    if (visit.stack !== undefined) {
      let childSum = 0;
      for (const child of node[4]) childSum += Array.isArray(child) && typeof child[2] === 'number' ? child[2] : 0;
      const self = Math.max(0, Math.floor(node[2]) - childSum);
      total += self;
      if (total > limit)
        throw new ProfFormatError(
          'too-large',
          `tree claims more than ${limit} samples (at most ${SAMPLES_PER_BODY_BYTE} per byte of body, ${MAX_TREE_SAMPLES} in all)`,
        );
      for (let i = 0; i < self; i++) builder.sample(visit.stack, time++ * DEFAULT_PERIOD_MS, thread);
      continue;
    }
    if (
      !Array.isArray(node) ||
      node.length < 5 ||
      typeof node[0] !== 'string' ||
      typeof node[2] !== 'number' ||
      !Number.isFinite(node[2]) ||
      !Array.isArray(node[4])
    ) {
      throw new ProfFormatError('bad-tree', `node ${pathOf(visit)}: expected [name, addr, count, meta, children]`);
    }
    if (visit.depth > MAX_DEPTH)
      throw new ProfFormatError('bad-tree', `node ${pathOf(visit)}: tree deeper than ${MAX_DEPTH}`);
    const [name, addr] = node;
    const digits = typeof addr === 'string' ? addr.replace(/^-/, '') : '';
    const address =
      typeof addr === 'string' && /^\d+$/.test(digits) && digits.length <= MAX_ADDRESS_DIGITS ? integerHex(addr) : '';
    const frame = builder.frame(`${name}\u0000${address}`, () => frameFromVmprofName(name, address));
    visit.stack = builder.stack(visit.parentStack, frame);
    pending.push(visit);
    const children = node[4];
    for (let i = children.length - 1; i >= 0; i--) {
      pending.push({ node: children[i], parentStack: visit.stack, depth: visit.depth + 1, index: i, up: visit });
    }
  }
}

/**
 * A legacy call-tree upload, already parsed from `bodyBytes` bytes of JSON, as a CPU-only document:
 * every node's self count becomes that many samples of the node's stack. No time axis or memory
 * survives in these uploads: samples keep the tree's order one index apart, with time source `none`,
 * so the duration reads as unknown. Work and memory are bounded by `bodyBytes` (`too-large`).
 */
export function vmprofTreeToDocument(body: unknown, bodyBytes: number): ProfileDocument {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProfFormatError('bad-tree', 'expected a JSON object with "profiles", "argv", "VM"');
  }
  const upload = body as { profiles?: unknown; argv?: unknown; VM?: unknown };
  const builder = new DocumentBuilder();
  const thread = builder.thread('0');

  const profiles = upload.profiles;
  // `{"profiles":5}`, `[]` or none was stored as an empty profile: a tree upload without a tree is malformed.
  if (!Array.isArray(profiles) || profiles.length === 0)
    throw new ProfFormatError('bad-tree', '"profiles": expected a call tree [name, addr, count, meta, children]');
  walkTree(profiles, builder, thread, claimLimit(bodyBytes));

  const meta = emptyMeta('vmprof');
  meta.interpreter = typeof upload.VM === 'string' ? upload.VM.toLowerCase() : null;
  meta.argv = typeof upload.argv === 'string' ? upload.argv.slice(0, 4096).split(' ') : null;
  return builder.finish({ meta, timeEstimated: true, timeSource: 'none' });
}

/** The same from the JSON bytes (`bad-json` when they are not JSON). */
export function readVmprofTree(bytes: Uint8Array): ProfileDocument {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ProfFormatError('bad-json', `vmprof call-tree upload is not JSON: ${(error as Error).message}`);
  }
  return vmprofTreeToDocument(body, bytes.length);
}

/** A JSON object naming `"profiles"` and `"VM"` or `"argv"` in its first bytes: a vmprof call-tree upload. */
export function isVmprofTree(head: Uint8Array): boolean {
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (head[i] !== 0x7b) return false;
  const text = new TextDecoder().decode(head.subarray(i, i + 4096));
  return /"profiles"\s*:\s*\[/.test(text) && /"(VM|argv)"\s*:/.test(text);
}
