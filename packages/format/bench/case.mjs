// One benchmark case in a fresh process, so its peak RSS is its own. Prints one JSON line.
// Usage: node bench/case.mjs CASE FILE   (runs on the built dist/, as users get it)
import { readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { gunzipDocument, gzipDocument, readProfileFile, readVmprof } from '../dist/node.js';
import { peakRssBytes } from '../../../bench/peak-rss.mjs';

const [, , name, file] = process.argv;
const MB = 1e6;

async function timed(fn, runs = 1) {
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = await fn();
    times.push(performance.now() - t);
  }
  return { ms: Math.min(...times), coldMs: times[0], result };
}

const cases = {
  // Reader alone on bytes already in memory.
  async parse() {
    const bytes = readFileSync(file);
    const { ms, coldMs, result } = await timed(() => readVmprof(bytes), 3);
    return { inputBytes: bytes.length, ms, coldMs, samples: result.samples.length };
  },
  // What `prof convert` does: stream the file from disk, read, encode, gzip.
  async convert() {
    const inputBytes = statSync(file).size;
    const { ms, coldMs, result } = await timed(async () => gzipDocument(await readProfileFile(file)), 3);
    return { inputBytes, ms, coldMs, outputBytes: result.length };
  },
  // The decoder side: .msgpack.gz back to a document (what the server does for memory queries).
  async decode() {
    const gz = await gzipDocument(await readProfileFile(file));
    const { ms, coldMs } = await timed(() => gunzipDocument(gz), 3);
    return { inputBytes: gz.length, ms, coldMs };
  },
  // Baseline: gzip -6 of the .prof itself.
  async gzip6() {
    const bytes = readFileSync(file);
    const { ms, result } = await timed(() => gzipSync(bytes, { level: 6 }));
    return { inputBytes: bytes.length, ms, outputBytes: result.length };
  },
  // Streaming inflate of the gzipped .prof in 1 MB chunks, as readProfileFile does for .prof.gz.
  // (zlib-sync took 213-343 ms here against node:zlib's 43-76 ms: see docs/decisions.md.)
  async inflateNode() {
    const gz = gzipSync(readFileSync(file), { level: 6 });
    const { ms, result } = await timed(async () => {
      let n = 0;
      const chunks = Array.from({ length: Math.ceil(gz.length / MB) }, (_, i) => gz.subarray(i * MB, (i + 1) * MB));
      for await (const c of Readable.from(chunks).pipe(createGunzip({ chunkSize: 1 << 18 }))) n += c.length;
      return n;
    }, 3);
    const inputBytes = readFileSync(file).length;
    if (result !== inputBytes) throw new Error(`node:zlib inflated ${result} bytes, expected ${inputBytes}`);
    return { inputBytes, ms };
  },
};

const out = await cases[name]();
out.peakRssBytes = peakRssBytes();
console.log(JSON.stringify(out));
