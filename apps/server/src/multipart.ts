import { HttpError } from './http-error';

/** The boundary of a `multipart/form-data` content type, or null for any other type. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return null;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw new HttpError(400, 'bad-multipart', 'multipart/form-data without a boundary');
  return m[1] ?? m[2];
}

/**
 * The bytes of the part named `name` (the vmprof 0.4.0-0.4.9 client sends its file as part `file`).
 * Returns a view into `body`, no copy.
 */
export function multipartPart(body: Buffer, boundary: string, name: string): Buffer {
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const headersStart = at + delimiter.length + 2; // past CRLF
    if (body.subarray(at + delimiter.length, at + delimiter.length + 2).toString() === '--') break;
    const headersEnd = body.indexOf('\r\n\r\n', headersStart);
    if (headersEnd < 0) break;
    const headers = body.subarray(headersStart, headersEnd).toString('latin1');
    const dataStart = headersEnd + 4;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), dataStart);
    if (next < 0)
      throw new HttpError(400, 'bad-multipart', `multipart body: part at byte ${at} has no closing boundary`);
    const partName = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (partName === name) return body.subarray(dataStart, next);
    at = next + 2;
  }
  throw new HttpError(400, 'bad-multipart', `multipart body has no part named "${name}"`);
}
