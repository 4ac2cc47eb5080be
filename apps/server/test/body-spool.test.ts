// streamBodyToFile batches the chunks that arrive while a write is in flight into one writev (a 4 GB
// upload made 61,000 thread-pool submissions, one per socket read). Over a real HTTP server: bodies
// sent in random pieces, some with the client waiting between them, land byte for byte; a body over
// the limit and a client that goes away leave no file.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamBodyToFile } from '../src/body';

let dir: string;
let server: Server;
let port: number;
/** What the server answered for each request, by its `x-name`: the spooled size, or the error. */
const outcomes = new Map<string, Promise<{ size?: number; error?: string }>>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prof-body-spool-'));
  server = createServer((request: IncomingMessage, response) => {
    const name = String(request.headers['x-name']);
    const limit = Number(request.headers['x-limit'] ?? 1 << 30);
    const outcome = streamBodyToFile(request, join(dir, name), limit).then(
      (size) => ({ size }),
      (error: Error) => ({ error: (error as { code?: string }).code ?? error.message }),
    );
    outcomes.set(name, outcome);
    void outcome.then((o) => response.end(JSON.stringify(o)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A seeded generator (mulberry32): the same pieces on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends `body` over a raw socket in pieces of random sizes, now and then waiting for the socket to drain. */
function send(name: string, body: Buffer, seed: number, headers: Record<string, string> = {}) {
  const next = random(seed);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', async () => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nx-name: ${name}\r\nContent-Length: ${body.length}\r\n${extra}\r\n`);
      for (let at = 0; at < body.length; ) {
        const n = Math.min(body.length - at, 1 + Math.floor(next() ** 3 * 3 * 1024 * 1024));
        const flushed = socket.write(body.subarray(at, at + n));
        at += n;
        // Now and then the next piece waits until this one is handed to the kernel.
        if (!flushed) await new Promise((r) => socket.once('drain', r));
        else if (next() < 0.2) await new Promise((r) => socket.write(Buffer.alloc(0), r));
      }
    });
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(0);
    // HTTP/1.1 keeps the connection: close it once the answer's body is in.
    socket.on('data', () => {
      if (/\r\n\r\n\{.*\}$/s.test(answer)) socket.end();
    });
  });
}

describe('streamBodyToFile', () => {
  it('lands bodies sent in random pieces byte for byte', async () => {
    const sizes = [0, 1, 65_535, 65_537, 3 * 1024 * 1024 + 17, 24 * 1024 * 1024 + 5];
    await Promise.all(
      sizes.map(async (size, i) => {
        const body = randomBytes(size);
        await send(`body-${i}`, body, 1000 + i);
        expect(await outcomes.get(`body-${i}`)).toEqual({ size });
        expect(Buffer.compare(await readFile(join(dir, `body-${i}`)), body)).toBe(0);
      }),
    );
  });

  it('refuses a body past its limit once its bytes pass it (no length declared), and leaves no file', async () => {
    // Chunked: no Content-Length to refuse it by, so the bytes are counted as they arrive.
    const pieces = (async function* () {
      for (let i = 0; i < 80; i++) yield randomBytes(64 * 1024);
    })();
    await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: Readable.toWeb(Readable.from(pieces)) as ReadableStream,
      headers: { 'x-name': 'over', 'x-limit': String(4 * 1024 * 1024) },
      duplex: 'half',
    } as RequestInit).catch(() => null);
    expect((await outcomes.get('over'))?.error).toBe('too-large');
    expect((await readdir(dir)).filter((n) => n.includes('over'))).toEqual([]);
  });

  it('a client that goes away mid-body leaves no file', async () => {
    const name = 'gone';
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nx-name: ${name}\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`);
    await new Promise((resolve) => socket.write(randomBytes(9 * 1024 * 1024), resolve));
    // The server has started spooling (its outcome exists) before the client goes.
    while (!outcomes.has(name)) await new Promise((r) => setImmediate(r));
    socket.destroy();
    expect((await outcomes.get(name))?.error).toBe('aborted');
    expect((await readdir(dir)).filter((n) => n.includes(name))).toEqual([]);
  });
});
