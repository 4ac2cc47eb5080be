import { HttpError } from '../http-error';

/**
 * A msgpack decoder for the vmprof-viewer client's bodies: str and bin values both come back as bytes
 * (`Uint8Array`), because Python 2 packed binary gzip blobs as str (see vmprof-viewer-protocol.md
 * §2.3) and a UTF-8 decoding would destroy them. Map keys are decoded to text. uint64/int64 become
 * numbers (code addresses stay below 2^53 on x86-64; larger ones lose precision but stay distinct
 * enough to name frames). Depth and lengths are checked against the input so bad input cannot
 * allocate more than it carries.
 */
export type RawValue = null | boolean | number | Uint8Array | RawValue[] | Map<string, RawValue>;

const MAX_DEPTH = 512;
const utf8 = new TextDecoder('utf-8', { fatal: false });

export function decodeRawMsgpack(bytes: Uint8Array, what: string): RawValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;

  const fail = (message: string): never => {
    throw new HttpError(400, 'bad-msgpack', `${what} is not valid msgpack: ${message} at byte ${pos}`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`truncated (needs ${n} more bytes)`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4));
  const raw = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));

  const array = (n: number, depth: number): RawValue[] => {
    if (n > bytes.length - pos) fail(`array of ${n} items cannot fit`);
    const out = new Array<RawValue>(n);
    for (let i = 0; i < n; i++) out[i] = value(depth + 1);
    return out;
  };
  const map = (n: number, depth: number): Map<string, RawValue> => {
    if (n * 2 > bytes.length - pos) fail(`map of ${n} entries cannot fit`);
    const out = new Map<string, RawValue>();
    for (let i = 0; i < n; i++) {
      const key = value(depth + 1);
      const text = key instanceof Uint8Array ? utf8.decode(key) : String(key);
      out.set(text, value(depth + 1));
    }
    return out;
  };

  function value(depth: number): RawValue {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f, depth);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f, depth);
    if ((b & 0xe0) === 0xa0) return raw(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xd9:
        return raw(u8());
      case 0xc5:
      case 0xda:
        return raw(u16());
      case 0xc6:
      case 0xdb:
        return raw(u32());
      case 0xca:
        need(4);
        pos += 4;
        return view.getFloat32(pos - 4);
      case 0xcb:
        need(8);
        pos += 8;
        return view.getFloat64(pos - 8);
      case 0xcc:
        return u8();
      case 0xcd:
        return u16();
      case 0xce:
        return u32();
      case 0xcf:
        need(8);
        pos += 8;
        return Number(view.getBigUint64(pos - 8));
      case 0xd0:
        need(1);
        pos += 1;
        return view.getInt8(pos - 1);
      case 0xd1:
        need(2);
        pos += 2;
        return view.getInt16(pos - 2);
      case 0xd2:
        need(4);
        pos += 4;
        return view.getInt32(pos - 4);
      case 0xd3:
        need(8);
        pos += 8;
        return Number(view.getBigInt64(pos - 8));
      case 0xdc:
        return array(u16(), depth);
      case 0xdd:
        return array(u32(), depth);
      case 0xde:
        return map(u16(), depth);
      case 0xdf:
        return map(u32(), depth);
      default:
        return fail(`unsupported msgpack type 0x${b.toString(16)}`);
    }
  }

  const result = value(0);
  if (pos !== bytes.length) fail(`${bytes.length - pos} trailing bytes after the value`);
  return result;
}

export function rawText(value: RawValue | undefined): string | null {
  if (value instanceof Uint8Array) return utf8.decode(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}
