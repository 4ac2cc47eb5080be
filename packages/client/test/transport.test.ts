import { afterEach, describe, expect, it } from 'vitest';
import { uploadBytes, uploadUrl, UploadError } from '../src/transport/http-upload';
import { closedPortUrl, startRawServer } from './helpers';

const body = new Uint8Array(300_000).map((_, i) => i & 0xff);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('uploadBytes', () => {
  it('sends the bytes, query and token, and returns an absolute viewer URL', async () => {
    let seen: { url?: string; auth?: string; size: number } = { size: 0 };
    const s = await startRawServer((req, res) => {
      seen = { url: req.url, auth: req.headers.authorization, size: 0 };
      req.on('data', (c: Buffer) => (seen.size += c.length));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'abc123', url: '/profiles/abc123' }));
      });
    });
    cleanups.push(s.close);
    const progress: number[] = [];
    const r = await uploadBytes(
      body,
      { server: s.url + '/', project: 'p 1', name: 'main', tags: { env: 'a=b' }, token: 'T' },
      { timeoutMs: 5000, onProgress: (done) => progress.push(done) },
    );
    expect(r).toEqual({ id: 'abc123', url: `${s.url}/profiles/abc123` });
    expect(seen.size).toBe(body.byteLength);
    expect(seen.auth).toBe('Bearer T');
    const q = new URL(seen.url!, s.url).searchParams;
    expect([q.get('project'), q.get('name'), q.getAll('tag')]).toEqual(['p 1', 'main', ['env=a=b']]);
    expect(progress.at(-1)).toBe(body.byteLength);
  });

  it('reports a server that is down as unreachable (retryable)', async () => {
    const err = await uploadBytes(body, { server: await closedPortUrl() }, { timeoutMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(UploadError);
    expect(err.code).toBe('unreachable');
    expect(err.retryable).toBe(true);
  });

  it('gives up on a server that never answers at the deadline', async () => {
    const s = await startRawServer(() => {
      /* holds the request open forever */
    });
    cleanups.push(s.close);
    const err = await uploadBytes(body, { server: s.url }, { timeoutMs: 300 }).catch((e) => e);
    expect(err.code).toBe('timeout');
    expect(err.message).toContain('300 ms');
  });

  it('passes on the server error of a rejection, not retryable', async () => {
    const s = await startRawServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad token' } }));
      });
    });
    cleanups.push(s.close);
    const err = await uploadBytes(body, { server: s.url }, { timeoutMs: 5000 }).catch((e) => e);
    expect([err.code, err.status, err.serverCode, err.retryable]).toEqual(['rejected', 401, 'unauthorized', false]);
    expect(err.message).toContain('bad token');
  });

  it('treats 5xx as a server error worth retrying, and a 2xx without id as a bad response', async () => {
    let status = 503;
    const s = await startRawServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(status);
        res.end('{}');
      });
    });
    cleanups.push(s.close);
    const e1 = await uploadBytes(body, { server: s.url }, { timeoutMs: 5000 }).catch((e) => e);
    expect([e1.code, e1.retryable]).toEqual(['server-error', true]);
    status = 200;
    const e2 = await uploadBytes(body, { server: s.url }, { timeoutMs: 5000 }).catch((e) => e);
    expect(e2.code).toBe('bad-response');
  });

  it('refuses a server that is not an http URL', () => {
    expect(() => uploadUrl({ server: 'ftp://x' })).toThrow(/not an http/);
    expect(() => uploadUrl({ server: 'nonsense' })).toThrow(/not a URL/);
  });
});
