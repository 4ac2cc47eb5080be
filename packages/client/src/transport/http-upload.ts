import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * Why an upload failed. `unreachable`, `timeout` and `server-error` are worth retrying later;
 * `rejected` means the server refused this upload (bad token, invalid profile) and said why.
 */
export type UploadErrorCode = 'unreachable' | 'timeout' | 'rejected' | 'server-error' | 'bad-response' | 'bad-url';

export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    readonly code: UploadErrorCode,
    message: string,
    /** HTTP status when the server answered. */
    readonly status?: number,
    /** The server's own error code (`{error: {code}}`), when it sent one. */
    readonly serverCode?: string,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.code === 'unreachable' || this.code === 'timeout' || this.code === 'server-error';
  }
}

export interface UploadTarget {
  /** Server base URL, e.g. `http://localhost:8080`. */
  server: string;
  project?: string | null;
  name?: string | null;
  tags?: Record<string, string>;
  token?: string | null;
}

export interface UploadRequestOptions {
  /** Whole request deadline, connect to response, in ms. */
  timeoutMs: number;
  /** Called as body bytes are handed to the socket. */
  onProgress?(sentBytes: number, totalBytes: number): void;
  /** Let the process exit while this request is in flight (the decorator spools at exit instead). */
  unref?: boolean;
}

export interface UploadResult {
  id: string;
  /** Absolute viewer URL of the profile. */
  url: string;
}

const CHUNK = 64 * 1024;

export function uploadUrl(target: UploadTarget): URL {
  let url: URL;
  try {
    url = new URL('/api/profiles', target.server.replace(/\/+$/, '') + '/');
  } catch {
    throw new UploadError('bad-url', `server "${target.server}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UploadError('bad-url', `server "${target.server}" is not an http(s) URL`);
  }
  // Keep a path prefix the server may be mounted under.
  url.pathname = new URL(target.server).pathname.replace(/\/+$/, '') + '/api/profiles';
  if (target.project) url.searchParams.set('project', target.project);
  if (target.name) url.searchParams.set('name', target.name);
  for (const [k, v] of Object.entries(target.tags ?? {})) url.searchParams.append('tag', `${k}=${v}`);
  return url;
}

/** POSTs a `.msgpack.gz` document (or any profile the server accepts) and returns its id and URL. */
export function uploadBytes(
  bytes: Uint8Array,
  target: UploadTarget,
  options: UploadRequestOptions,
): Promise<UploadResult> {
  return new Promise<UploadResult>((resolve, reject) => {
    let url: URL;
    try {
      url = uploadUrl(target);
    } catch (e) {
      reject(e);
      return;
    }
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': bytes.byteLength,
      accept: 'application/json',
    };
    if (target.token) headers.authorization = `Bearer ${target.token}`;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const fail = (e: UploadError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      reject(e);
    };
    const req = request(url, { method: 'POST', headers }, (res) => {
      readBody(res)
        .then((body) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          try {
            resolve(interpretResponse(res.statusCode ?? 0, body, url));
          } catch (e) {
            reject(e);
          }
        })
        .catch((e: Error) => fail(new UploadError('unreachable', `connection to ${url.origin} broke: ${e.message}`)));
    });
    const deadline = setTimeout(
      () => fail(new UploadError('timeout', `no answer from ${url.origin} within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    if (options.unref) {
      deadline.unref();
      req.on('socket', (s) => s.unref());
    }
    req.on('error', (e: NodeJS.ErrnoException) =>
      fail(new UploadError('unreachable', `cannot reach ${url.origin}: ${e.code ?? e.message}`)),
    );
    writeBody(req, bytes, options.onProgress);
  });
}

function writeBody(
  req: import('node:http').ClientRequest,
  bytes: Uint8Array,
  onProgress?: (sent: number, total: number) => void,
): void {
  let offset = 0;
  const total = bytes.byteLength;
  const pump = (): void => {
    while (offset < total) {
      const end = Math.min(total, offset + CHUNK);
      const more = req.write(bytes.subarray(offset, end));
      offset = end;
      onProgress?.(offset, total);
      if (!more) {
        req.once('drain', pump);
        return;
      }
    }
    req.end();
  };
  pump();
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1 << 20) parts.push(c); // an answer is small; never hold an unbounded one
    });
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

function interpretResponse(status: number, body: string, url: URL): UploadResult {
  let json: unknown = null;
  try {
    json = JSON.parse(body);
  } catch {
    // handled below with the status
  }
  if (status >= 200 && status < 300) {
    const r = json as { id?: unknown; url?: unknown } | null;
    if (!r || typeof r.id !== 'string' || typeof r.url !== 'string') {
      throw new UploadError(
        'bad-response',
        `server answered ${status} without {id, url}: ${body.slice(0, 200)}`,
        status,
      );
    }
    return { id: r.id, url: new URL(r.url, url).toString() };
  }
  const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
  const detail = err?.message ?? body.slice(0, 200);
  const code: UploadErrorCode = status >= 500 ? 'server-error' : 'rejected';
  throw new UploadError(
    code,
    `server answered ${status}${err?.code ? ` (${err.code})` : ''}: ${detail}`,
    status,
    err?.code,
  );
}
