// The vmprof-viewer client's `POST /submit/` body (docs/formats/vmprof-viewer-protocol.md §2-3): one
// msgpack map whose `mem_profile` and `addr_name_map` are gzipped msgpack blobs.
import { decode } from '@msgpack/msgpack';
import { DocumentBuilder, emptyMeta } from '../builder';
import { ProfFormatError } from '../errors';
import { inflateGzip } from '../inflate';
import { isPlainObject } from '../plain-values';
import type { ProfileDocument } from '../schema';
import { frameFromVmprofName } from '../vmprof/names';
import { integerHex } from '../vmprof/words';

type Map_ = Record<string, unknown>;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * msgpack with every str value kept as bytes: Python 2 packed binary gzip blobs as str (protocol
 * §2.3), and decoding them as UTF-8 would destroy them; map keys are decoded as text. No length may
 * claim more than the input holds, so bad input cannot allocate more than it carries.
 */
function decodeRaw(bytes: Uint8Array, what: string): unknown {
  const n = bytes.length;
  try {
    return decode(bytes, {
      rawStrings: true,
      maxStrLength: n,
      maxBinLength: n,
      maxArrayLength: n,
      maxMapLength: n,
      maxExtLength: n,
    });
  } catch (error) {
    throw new ProfFormatError('bad-msgpack', `${what} is not valid msgpack: ${(error as Error).message}`);
  }
}

/** A field of a decoded map, never one of Object.prototype's (`constructor`, `toString`). */
const field = (map: Map_, key: string): unknown => (Object.hasOwn(map, key) ? map[key] : undefined);

function text(value: unknown): string | null {
  if (value instanceof Uint8Array) return utf8.decode(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

const bad = (message: string) => new ProfFormatError('bad-submit', message);

async function blob(top: Map_, name: string, maxInflatedBytes: number): Promise<unknown> {
  const bytes = field(top, name);
  if (!(bytes instanceof Uint8Array)) throw bad(`submit body: ${name} must be a gzip blob`);
  return decodeRaw(await inflateGzip(bytes, maxInflatedBytes, name), name);
}

/**
 * The submit body as a Prof document, built from `mem_profile` (every sample, full stacks, memory);
 * the call tree is a lossy aggregate and is ignored. Sample i is at `i × period` (the client sends no
 * per-sample time). Each blob may inflate to `maxInflatedBytes` at most (`too-large`).
 */
export async function readVmprofViewerSubmit(
  body: Uint8Array,
  options: { maxInflatedBytes: number },
): Promise<ProfileDocument> {
  const top = decodeRaw(body, 'submit body');
  if (!isPlainObject(top)) throw bad('submit body: expected a msgpack map');
  const version = field(top, 'version');
  if (version !== 1 && version !== 2)
    throw bad(`submit body: unsupported version ${String(version)} (expected 1 or 2)`);

  const periodUs = field(top, 'period');
  if (typeof periodUs !== 'number') throw bad('submit body: period must be a number');
  if (!(periodUs > 0)) throw bad(`submit body: period must be positive, got ${periodUs}`);
  const samples = await blob(top, 'mem_profile', options.maxInflatedBytes);
  const names = await blob(top, 'addr_name_map', options.maxInflatedBytes);
  if (!Array.isArray(samples)) throw bad('mem_profile: expected an array of [stack, memory]');
  if (!isPlainObject(names)) throw bad('addr_name_map: expected a map');

  const builder = new DocumentBuilder();
  const thread = builder.thread('0');
  const periodMs = Math.round(periodUs) / 1000;
  const anyMemory = samples.some((s) => Array.isArray(s) && typeof s[1] === 'number' && s[1] > 0);
  samples.forEach((sample, i) => {
    if (!Array.isArray(sample) || !Array.isArray(sample[0])) throw bad(`mem_profile[${i}]: expected [stack, memory]`);
    let stack = -1;
    for (const id of sample[0]) {
      if (!Number.isInteger(id)) throw bad(`mem_profile[${i}]: stack ids must be integers`);
      if (id <= 0) continue; // line-number pseudo-frames (lines=True) carry no code object
      const frame = builder.frame(String(id), () =>
        frameFromVmprofName(text(field(names, String(id))) ?? '<unknown code>', integerHex(id)),
      );
      stack = builder.stack(stack, frame);
    }
    const kib = typeof sample[1] === 'number' ? sample[1] : -1;
    builder.sample(stack, i * periodMs, thread, anyMemory ? (kib >= 0 ? kib * 1024 : Number.NaN) : undefined);
  });

  const meta = emptyMeta('vmprof');
  meta.project = text(field(top, 'project'));
  meta.name = text(field(top, 'top_level_function')) || null;
  meta.periodUs = Math.round(periodUs);
  const startText = version >= 2 ? text(field(top, 'start_date')) : null;
  const start = startText ? Date.parse(startText) : Number.NaN;
  if (Number.isFinite(start)) {
    meta.startTime = start;
    meta.endTime = start + samples.length * periodMs;
  }
  return builder.finish({ meta, timeEstimated: true, timeSource: 'period' });
}

const MEM_PROFILE_KEY = new TextEncoder().encode('mem_profile');

/** A msgpack map whose first bytes hold the key `mem_profile`: a vmprof-viewer client submit body. */
export function isVmprofViewerSubmit(head: Uint8Array): boolean {
  const b = head[0];
  if (!((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf)) return false;
  outer: for (let i = 1; i + MEM_PROFILE_KEY.length < head.length; i++) {
    if (head[i] !== 0xab) continue; // fixstr of 11 bytes
    for (let j = 0; j < MEM_PROFILE_KEY.length; j++) if (head[i + 1 + j] !== MEM_PROFILE_KEY[j]) continue outer;
    return true;
  }
  return false;
}
