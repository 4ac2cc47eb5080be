/** Lenient UTF-8: names come from arbitrary user code and vmprof cuts them inside sequences. */
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes `bytes`; invalid sequences become U+FFFD and `valid` says whether there were any. */
export function decodeUtf8(bytes: Uint8Array): { text: string; valid: boolean } {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    // Fast path for the common case; String.fromCharCode over a big array could overflow the stack.
    if (bytes.length <= 256)
      return { text: String.fromCharCode.apply(null, bytes as unknown as number[]), valid: true };
    return { text: lenient.decode(bytes), valid: true };
  }
  const text = lenient.decode(bytes);
  if (!text.includes('\uFFFD')) return { text, valid: true };
  // U+FFFD may be genuine text: only a strict decode can tell.
  try {
    strict.decode(bytes);
    return { text, valid: true };
  } catch {
    return { text, valid: false };
  }
}
