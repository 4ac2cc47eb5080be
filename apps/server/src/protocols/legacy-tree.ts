import { DocumentBuilder, emptyMeta, type ProfileDocument } from '@prof/format';
import { HttpError } from '../http-error';
import { frameFromVmprofName, hexAddress } from './vmprof-names';

/** Most samples a legacy tree may claim: counts come from the client, so they bound our memory. */
const MAX_TREE_SAMPLES = 20_000_000;

/**
 * A legacy (protocol A/B, vmprof 0.1-0.3) call-tree upload as a CPU-only document: every node's
 * self count (inclusive count minus its children's) becomes that many samples of the node's stack.
 * No time axis or memory survives in these uploads (vmprof-upload-protocol.md §5): samples keep the
 * tree's order one index apart, with time source `none`, so the duration reads as unknown.
 */
export function legacyTreeToDocument(body: unknown): ProfileDocument {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'bad-tree', 'expected a JSON object with "profiles", "argv", "VM"');
  }
  const upload = body as { profiles?: unknown; argv?: unknown; VM?: unknown };
  const builder = new DocumentBuilder();
  const thread = builder.thread('0');
  let total = 0;
  let time = 0;

  const walk = (node: unknown, parent: number, path: string, depth: number) => {
    if (
      !Array.isArray(node) ||
      node.length < 5 ||
      typeof node[0] !== 'string' ||
      typeof node[2] !== 'number' ||
      !Array.isArray(node[4])
    ) {
      throw new HttpError(400, 'bad-tree', `node ${path}: expected [name, addr, count, meta, children]`);
    }
    if (depth > 10_000) throw new HttpError(400, 'bad-tree', `node ${path}: tree deeper than 10000`);
    const [name, addr, count, , children] = node as [string, unknown, number, unknown, unknown[]];
    const address = typeof addr === 'string' && /^-?\d+$/.test(addr) ? hexAddress(Number(addr)) : '';
    const frame = builder.frame(`${name}\u0000${address}`, () => frameFromVmprofName(name, address));
    const stack = builder.stack(parent, frame);
    let childSum = 0;
    children.forEach((child, i) => {
      walk(child, stack, `${path}.${i}`, depth + 1);
      childSum += Array.isArray(child) && typeof child[2] === 'number' ? child[2] : 0;
    });
    const self = Math.max(0, Math.floor(count) - childSum);
    total += self;
    if (total > MAX_TREE_SAMPLES)
      throw new HttpError(413, 'too-large', `tree claims more than ${MAX_TREE_SAMPLES} samples`);
    for (let i = 0; i < self; i++) builder.sample(stack, time++, thread);
  };
  const profiles = upload.profiles;
  if (Array.isArray(profiles) && profiles.length > 0) walk(profiles, -1, 'root', 0);

  const meta = emptyMeta('vmprof');
  meta.interpreter = typeof upload.VM === 'string' ? upload.VM.toLowerCase() : null;
  meta.argv = typeof upload.argv === 'string' ? upload.argv.slice(0, 4096).split(' ') : null;
  return builder.finish({ meta, timeEstimated: true, timeSource: 'none' });
}
