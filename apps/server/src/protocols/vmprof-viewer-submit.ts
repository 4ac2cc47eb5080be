import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DocumentBuilder, emptyMeta, type ProfileDocument } from '@prof/format';
import { HttpError } from '../http-error';
import { decodeRawMsgpack, rawText, type RawValue } from './raw-msgpack';
import { frameFromVmprofName, hexAddress } from './vmprof-names';

const gunzipAsync = promisify(gunzip);

/**
 * The vmprof-viewer client's `POST /submit/` body (vmprof-viewer-protocol.md §2-3) as a Prof document.
 * Built from `mem_profile` (every sample, full stacks, memory); the call tree is a lossy aggregate
 * and is ignored. Sample i is at `i × period` (the client sends no per-sample time).
 */
export async function vmprofViewerSubmitToDocument(
  body: Uint8Array,
  maxInflatedBytes: number,
): Promise<ProfileDocument> {
  const top = decodeRawMsgpack(body, 'submit body');
  if (!(top instanceof Map)) throw new HttpError(400, 'bad-submit', 'submit body: expected a msgpack map');
  const version = top.get('version');
  if (version !== 1 && version !== 2)
    throw new HttpError(400, 'bad-submit', `submit body: unsupported version ${String(version)} (expected 1 or 2)`);

  const periodUs = toNumber(top.get('period'), 'period');
  if (!(periodUs > 0)) throw new HttpError(400, 'bad-submit', `submit body: period must be positive, got ${periodUs}`);
  const samples = await blob(top, 'mem_profile', maxInflatedBytes);
  const names = await blob(top, 'addr_name_map', maxInflatedBytes);
  if (!Array.isArray(samples))
    throw new HttpError(400, 'bad-submit', 'mem_profile: expected an array of [stack, memory]');
  if (!(names instanceof Map)) throw new HttpError(400, 'bad-submit', 'addr_name_map: expected a map');

  const builder = new DocumentBuilder();
  const thread = builder.thread('0');
  const periodMs = Math.round(periodUs) / 1000;
  const anyMemory = samples.some((s) => Array.isArray(s) && typeof s[1] === 'number' && s[1] > 0);
  samples.forEach((sample, i) => {
    if (!Array.isArray(sample) || !Array.isArray(sample[0])) {
      throw new HttpError(400, 'bad-submit', `mem_profile[${i}]: expected [stack, memory]`);
    }
    let stack = -1;
    for (const id of sample[0]) {
      if (typeof id !== 'number')
        throw new HttpError(400, 'bad-submit', `mem_profile[${i}]: stack ids must be integers`);
      if (id <= 0) continue; // line-number pseudo-frames (lines=True) carry no code object
      const frame = builder.frame(String(id), () => {
        const name = rawText(names.get(String(id))) ?? '<unknown code>';
        return frameFromVmprofName(name, hexAddress(id));
      });
      stack = builder.stack(stack, frame);
    }
    const kib = typeof sample[1] === 'number' ? sample[1] : -1;
    builder.sample(stack, i * periodMs, thread, anyMemory ? (kib >= 0 ? kib * 1024 : NaN) : undefined);
  });

  const meta = emptyMeta('vmprof');
  meta.project = rawText(top.get('project'));
  meta.name = rawText(top.get('top_level_function')) || null;
  meta.periodUs = Math.round(periodUs);
  const startText = version >= 2 ? rawText(top.get('start_date')) : null;
  const start = startText ? Date.parse(startText) : NaN;
  if (Number.isFinite(start)) {
    meta.startTime = start;
    meta.endTime = start + samples.length * periodMs;
  }
  return builder.finish({ meta, timeEstimated: true, timeSource: 'period' });
}

function toNumber(value: RawValue | undefined, field: string): number {
  if (typeof value !== 'number') throw new HttpError(400, 'bad-submit', `submit body: ${field} must be a number`);
  return value;
}

async function blob(top: Map<string, RawValue>, field: string, maxInflatedBytes: number): Promise<RawValue> {
  const bytes = top.get(field);
  if (!(bytes instanceof Uint8Array))
    throw new HttpError(400, 'bad-submit', `submit body: ${field} must be a gzip blob`);
  let inflated: Buffer;
  try {
    inflated = await gunzipAsync(bytes, { maxOutputLength: maxInflatedBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, 'too-large', `${field}: inflates to more than ${maxInflatedBytes} bytes`);
    }
    throw new HttpError(400, 'bad-gzip', `${field}: not a valid gzip stream (${(error as Error).message})`);
  }
  return decodeRawMsgpack(inflated, field);
}
