/**
 * Incremental SHA-256 in plain TypeScript. The inspect output hashes every sample of a profile
 * (347 MB of JSON for the 62 MB big_memory fixture), which Web Crypto can only digest as one
 * buffer; this streams in bounded memory and runs in the browser too. Node callers can pass
 * `node:crypto`'s `createHash('sha256')` instead through the same interface (several times faster).
 */

/** The part of a hash object `inspectFromResult` uses; `node:crypto` Hash objects fit it. */
export interface IncrementalHash {
  update(data: Uint8Array): unknown;
  /** Lowercase hex digest. */
  digest(encoding: 'hex'): string;
}

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** Pure SHA-256 (FIPS 180-4) with `update`/`digest` like node:crypto's Hash. */
export class Sha256 implements IncrementalHash {
  private readonly h = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  private readonly w = new Int32Array(64);
  private readonly block = new Uint8Array(64);
  private blockLength = 0;
  private bytes = 0;
  private done = false;

  update(data: Uint8Array): this {
    if (this.done) throw new Error('Sha256: update after digest');
    this.bytes += data.length;
    let i = 0;
    if (this.blockLength > 0) {
      const take = Math.min(64 - this.blockLength, data.length);
      this.block.set(data.subarray(0, take), this.blockLength);
      this.blockLength += take;
      i = take;
      if (this.blockLength < 64) return this;
      this.compress(this.block, 0);
      this.blockLength = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.compress(data, i);
    if (i < data.length) {
      this.block.set(data.subarray(i), 0);
      this.blockLength = data.length - i;
    }
    return this;
  }

  digest(_encoding: 'hex' = 'hex'): string {
    if (!this.done) {
      const bitsHi = Math.floor(this.bytes / 0x20000000);
      const bitsLo = (this.bytes * 8) >>> 0;
      const pad = new Uint8Array(((this.blockLength + 8) >> 6) * 64 + 64 - this.blockLength);
      pad[0] = 0x80;
      const n = pad.length;
      pad[n - 8] = bitsHi >>> 24;
      pad[n - 7] = bitsHi >>> 16;
      pad[n - 6] = bitsHi >>> 8;
      pad[n - 5] = bitsHi;
      pad[n - 4] = bitsLo >>> 24;
      pad[n - 3] = bitsLo >>> 16;
      pad[n - 2] = bitsLo >>> 8;
      pad[n - 1] = bitsLo;
      this.update(pad);
      this.done = true;
    }
    let out = '';
    for (let i = 0; i < 8; i++) out += (this.h[i] >>> 0).toString(16).padStart(8, '0');
    return out;
  }

  private compress(d: Uint8Array, p: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++, p += 4) w[t] = (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15];
      const b = w[t - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    const h = this.h;
    let a = h[0],
      b = h[1],
      c = h[2],
      e = h[4],
      f = h[5],
      g = h[6],
      hh = h[7],
      dd = h[3];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (dd + t1) | 0;
      dd = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + dd) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + hh) | 0;
  }
}

/**
 * Collects many small UTF-8 pieces into one buffer and hands full buffers to a hash: one `update`
 * call per 64 KiB instead of one per JSON fragment.
 */
export class HashWriter {
  private readonly buf: Uint8Array;
  private pos = 0;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly hash: IncrementalHash,
    size = 1 << 16,
  ) {
    this.buf = new Uint8Array(size);
  }

  bytes(b: Uint8Array): void {
    if (b.length > this.buf.length - this.pos) {
      this.flush();
      if (b.length > this.buf.length) {
        this.hash.update(b);
        return;
      }
    }
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Writes an ASCII-only string (numbers, `null`). */
  ascii(s: string): void {
    if (s.length > this.buf.length - this.pos) {
      this.flush();
      if (s.length > this.buf.length) {
        this.hash.update(this.encoder.encode(s));
        return;
      }
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  text(s: string): void {
    this.bytes(this.encoder.encode(s));
  }

  flush(): void {
    // Hash implementations consume the bytes synchronously, so a view of the buffer is enough.
    if (this.pos > 0) this.hash.update(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  digest(): string {
    this.flush();
    return this.hash.digest('hex');
  }
}

interface NodeCryptoLike {
  createHash(algorithm: 'sha256'): IncrementalHash;
}

/**
 * The fastest SHA-256 available without importing a Node built-in (this module must load in
 * browsers): Node >= 20.16 hands out `node:crypto` through `process.getBuiltinModule`, about 7x
 * faster than the pure implementation on big_memory (0.5 s against 3.9 s); elsewhere `Sha256`.
 */
export function defaultHashFactory(): () => IncrementalHash {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = proc?.getBuiltinModule?.('node:crypto') as NodeCryptoLike | undefined;
  if (crypto && typeof crypto.createHash === 'function') return () => crypto.createHash('sha256');
  return () => new Sha256();
}
