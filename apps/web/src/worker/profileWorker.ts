// Web worker owning one decoded profile document, for what needs every sample: the speedscope
// export of a range. The views themselves ask the server (a 24-hour profile is gigabytes decoded).
import { decodeDocument, exportSpeedscope, type ProfileDocument } from '@prof/format';
import { expose } from 'comlink';
import type { RangeQuery } from './protocol';
import { sampleRun } from './sampleRun';

let doc: ProfileDocument | null = null;

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
    throw new Error(message);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/** What the page calls (through Comlink): a throw reaches the caller as an Error with its message. */
const api = {
  async load(url: string): Promise<void> {
    try {
      doc = decodeDocument(await download(url));
    } catch (err) {
      // Comlink sends an Error's name and message only: @prof/format's code goes into the message.
      const e = err as Error & { code?: string };
      throw e.code ? new Error(`${e.code}: ${e.message}`) : e;
    }
  },
  speedscope(q: RangeQuery, title: string): string {
    if (!doc) throw new Error('profile not loaded');
    return exportSpeedscope(doc, { name: title, run: sampleRun(doc, q), exporter: 'prof-web' });
  },
};
export type ProfileWorkerApi = typeof api;

expose(api);
