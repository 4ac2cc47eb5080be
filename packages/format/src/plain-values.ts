/** Small helpers shared by the readers and the codec; internal to @prof/format. */

/** Joins byte chunks into one array (the chunk itself when there is only one). */
export function concatBytes(chunks: Uint8Array[], total = chunks.reduce((s, c) => s + c.length, 0)): Uint8Array {
  if (chunks.length === 1 && chunks[0].length === total) return chunks[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** A plain object (a decoded map): not null, not an array, not a typed array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}
