#!/usr/bin/env node
// Writes a vmprof profile N times longer than a real one, so long-run figures can be reproduced
// by anyone: the source's stack records are written N times in a row, every other record once
// (names, meta, header), and the trailer's end time moves so the run lasts N times as long. v7
// time stamps are shifted by the source's duration on each repetition, so they keep increasing.
// Memory mode, threads and lines are kept as they are: the records are copied byte for byte.
//
//   node scripts/make-long-profile.mjs SOURCE.prof TIMES OUT.prof
//
// The output is written as a stream (the source is read whole: a real profile, tens of MB).
import { closeSync, existsSync, openSync, readFileSync, statfsSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Record boundaries of an uncompressed vmprof file: static header size and each record's kind and span. */
export function scanVmprof(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let word;
  let addr;
  let pos;
  if (bytes[4] === 3) {
    word = 4;
    addr = dv.getInt32(16, true) === 1 ? 8 : 4;
    pos = 20;
  } else if (bytes[8] === 3) {
    word = 8;
    addr = 8;
    pos = 40;
  } else throw new Error('not an uncompressed little-endian vmprof profile');
  const readWord = (o) => (word === 4 ? dv.getInt32(o, true) : Number(dv.getBigInt64(o, true)));
  const records = [];
  let version = 0;
  let threadSlot = false;
  let memorySlot = false;
  while (pos < bytes.length) {
    const start = pos;
    const marker = bytes[pos];
    let size;
    switch (marker) {
      case 0x01:
      case 0x09:
      case 0x0a: {
        const head = 1 + (version >= 7 ? 8 : word) + word;
        const depth = readWord(pos + head - word);
        size = head + depth * addr;
        if (marker !== 0x0a) size += (threadSlot ? addr : 0) + (memorySlot ? addr : 0);
        break;
      }
      case 0x02:
      case 0x08:
        size = 1 + addr + word + readWord(pos + 1 + addr);
        break;
      case 0x03:
        size = version >= 5 ? 25 : 1;
        break;
      case 0x04:
        size = 2 + bytes[pos + 1];
        break;
      case 0x05: {
        version = (bytes[pos + 1] << 8) | bytes[pos + 2];
        const fixed = 3 + (version >= 4 ? 1 : 0) + 1;
        const mode = version >= 4 ? bytes[pos + 3] : 0;
        threadSlot = version >= 1;
        memorySlot = version === 3 || (mode & 1) !== 0;
        size = fixed + bytes[pos + fixed - 1];
        break;
      }
      case 0x06:
        size = 25;
        break;
      case 0x07: {
        const k = readWord(pos + 1);
        size = 1 + word + k + word + readWord(pos + 1 + word + k);
        break;
      }
      default:
        throw new Error(`unknown record marker ${marker} at byte ${pos}`);
    }
    if (pos + size > bytes.length) throw new Error(`record at byte ${pos} is cut short: the source must be complete`);
    records.push({ marker, start, end: pos + size });
    pos += size;
    if (marker === 0x03) break;
  }
  return { records, version, word };
}

/** Microseconds since the epoch of a time record (0x06 start, or a v5+ trailer) at `at`. */
function readTimeUs(dv, at) {
  return Number(dv.getBigInt64(at + 1, true)) * 1e6 + Number(dv.getBigInt64(at + 9, true));
}

function timeRecord(marker, us, zone) {
  const out = new Uint8Array(25);
  const dv = new DataView(out.buffer);
  out[0] = marker;
  const sec = Math.floor(us / 1e6);
  dv.setBigInt64(1, BigInt(sec), true);
  dv.setBigInt64(9, BigInt(Math.round(us - sec * 1e6)), true);
  out.set(zone, 17);
  return out;
}

/**
 * Writes `out`: `source` (a complete, uncompressed vmprof file) with its stack records `times` times.
 * Returns what was written: bytes, samples (CPU stack records) and the duration in seconds.
 */
export function makeLongProfile({ source, times, out }) {
  if (!Number.isInteger(times) || times < 1) throw new Error(`times must be a whole number >= 1, got ${times}`);
  const bytes = readFileSync(source);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { records, version } = scanVmprof(bytes);
  const start = records.find((r) => r.marker === 0x06);
  const trailer = records.at(-1)?.marker === 0x03 ? records.at(-1) : null;
  if (!start || !trailer || trailer.end - trailer.start !== 25) {
    throw new Error('the source needs a start time record and a trailer with an end time (vmprof format 5+)');
  }
  const startUs = readTimeUs(dv, start.start);
  const durationUs = readTimeUs(dv, trailer.start) - startUs;
  const stacks = records.filter((r) => r.marker === 0x01 || r.marker === 0x09);
  // Runs of consecutive stack records, written with one call each.
  const runs = [];
  for (const r of stacks) {
    const last = runs.at(-1);
    if (last && last.end === r.start) last.end = r.end;
    else runs.push({ start: r.start, end: r.end });
  }
  const v7 = version >= 7;
  const stampHead = 1; // v7 stamp: float64 seconds right after the marker
  const fd = openSync(out, 'w');
  let written = 0;
  const write = (b) => {
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    written += b.length;
  };
  try {
    // The source as it is, up to its trailer: header, meta, names and the first repetition.
    write(bytes.subarray(0, trailer.start));
    for (let k = 1; k < times; k++) {
      if (!v7) {
        for (const run of runs) write(bytes.subarray(run.start, run.end));
        continue;
      }
      // v7: shift each stamp by k durations (copied runs, then the stamps patched in the copy).
      const shift = (k * durationUs) / 1e6;
      let s = 0;
      for (const run of runs) {
        const copy = Buffer.from(bytes.subarray(run.start, run.end));
        const cdv = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
        for (; s < stacks.length && stacks[s].end <= run.end; s++) {
          const at = stacks[s].start - run.start + stampHead;
          cdv.setFloat64(at, cdv.getFloat64(at, true) + shift, true);
        }
        write(copy);
      }
    }
    write(timeRecord(0x03, startUs + times * durationUs, bytes.subarray(trailer.start + 17, trailer.end)));
  } finally {
    closeSync(fd);
  }
  return {
    bytes: written,
    samples: stacks.filter((r) => r.marker === 0x01).length * times,
    durationSec: (times * durationUs) / 1e6,
  };
}

/**
 * The benches' long profile: `source` × `times` in the system's temporary folder, made once and
 * kept between runs (a ×64 big_memory is 4 GB and takes a while to write). The path, or null when
 * it would not fit with `spare` times its size still free (a server's spool, a converted copy).
 */
export function longProfileFile({ source, times, spare = 1.2 }) {
  if (times === 1) return source;
  const file = join(tmpdir(), `prof-bench-${basename(source, '.prof')}-x${times}.prof`);
  // Header and trailer once: close enough to tell a complete file from one cut by a killed run.
  const expected = (statSync(source).size - 25) * times + 25;
  if (existsSync(file) && Math.abs(statSync(file).size - expected) <= expected * 0.01) return file;
  const { bavail, bsize } = statfsSync(tmpdir());
  if (bavail * bsize < expected * spare) return null;
  makeLongProfile({ source, times, out: file });
  return file;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [source, times, out] = process.argv.slice(2);
  if (!source || !times || !out) {
    console.error('usage: node scripts/make-long-profile.mjs SOURCE.prof TIMES OUT.prof');
    process.exit(2);
  }
  const t0 = performance.now();
  const r = makeLongProfile({ source, times: Number(times), out });
  console.log(
    `${out}: ${(r.bytes / 1e6).toFixed(1)} MB, ${r.samples} samples, ${(r.durationSec / 3600).toFixed(2)} h ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}
