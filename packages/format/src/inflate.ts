import { ProfFormatError } from './errors';
import { concatBytes } from './plain-values';

/**
 * Inflates gzip bytes with the platform's `DecompressionStream` (browsers, Node >= 18), stopping with
 * `too-large` as soon as the output passes `max` (the gzip-bomb guard): `bad-gzip` for anything that
 * is not whole, valid gzip. `what` names the data in the messages.
 */
export async function inflateGzip(bytes: Uint8Array, max: number, what = 'gzip data'): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new ProfFormatError('bad-gzip', `${what} is not gzip data`, { offset: 0, expected: 'gzip magic 1f 8b' });
  }
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel();
        throw new ProfFormatError('too-large', `${what} inflates to more than ${max} bytes`, {
          expected: `at most ${max} bytes after gunzip`,
        });
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof ProfFormatError) throw e;
    throw new ProfFormatError('bad-gzip', `${what} is corrupt: ${(e as Error).message}`);
  }
  return concatBytes(chunks, total);
}
