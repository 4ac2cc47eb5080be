// Web worker owning one decoded profile document, for what needs every sample: the speedscope
// export of a range. The views themselves ask the server (a 24-hour profile is gigabytes decoded).
import { decodeDocument, exportSpeedscope, type ProfileDocument } from '@prof/format';
import type { FromWorker, ToWorker } from './protocol';
import { sampleRun } from './sampleRun';

let doc: ProfileDocument | null = null;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

async function download(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      /* keep the status line */
    }
    const err = new Error(message) as Error & { status?: number };
    err.status = res.status;
    throw err;
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (loaded - lastReport > 1 << 20) {
      lastReport = loaded;
      post({ kind: 'progress', phase: 'download', loaded });
    }
  }
  const bytes = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return bytes;
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  try {
    if (msg.kind === 'load') {
      const bytes = await download(msg.url);
      post({ kind: 'progress', phase: 'decode', loaded: bytes.length });
      doc = decodeDocument(bytes);
      post({ kind: 'ready' });
    } else if (msg.kind === 'speedscope') {
      if (!doc) throw new Error('profile not loaded');
      post({
        kind: 'speedscope',
        req: msg.req,
        json: exportSpeedscope(doc, { name: msg.title, run: sampleRun(doc, msg), exporter: 'prof-web' }),
      });
    }
  } catch (err) {
    const e = err as Error & { status?: number; code?: string };
    const message = e.code ? `${e.code}: ${e.message}` : e.message;
    post({ kind: 'error', message, status: e.status, req: 'req' in msg ? msg.req : undefined });
  }
};
