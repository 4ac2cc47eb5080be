import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends a request byte for byte as a capture shows it (header names, case and order kept; `Host`
 * replaced by the test server's), and reads one response (Content-Length or connection close).
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: [string, string][],
  body: Uint8Array = Buffer.alloc(0),
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const lines = [
      `${method} ${path} HTTP/1.1`,
      ...headers.map(([k, v]) => `${k}: ${k.toLowerCase() === 'host' ? url.host : v}`),
    ];
    socket.on('connect', () => {
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      if (body.length) socket.write(body);
    });
    let data = Buffer.alloc(0);
    let settled = false;
    const tryParse = (ended: boolean) => {
      const headerEnd = data.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = data.subarray(0, headerEnd).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const responseHeaders: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        responseHeaders[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = responseHeaders['content-length'];
      const bodyStart = headerEnd + 4;
      if (length !== undefined && data.length >= bodyStart + Number(length)) {
        settled = true;
        socket.destroy();
        resolve({ status, headers: responseHeaders, body: data.subarray(bodyStart, bodyStart + Number(length)) });
      } else if (ended) {
        settled = true;
        resolve({ status, headers: responseHeaders, body: data.subarray(bodyStart) });
      }
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      tryParse(false);
    });
    socket.on('end', () => !settled && tryParse(true));
    socket.on('error', (e) => !settled && reject(e));
    // Closed without a whole answer (no header at all, or a reset after part of it): fail, never hang.
    socket.on('close', () => {
      if (!settled)
        reject(
          new Error(
            `${method} ${path}: connection closed after ${data.length} bytes of answer: ${data.toString('latin1').slice(0, 200)}`,
          ),
        );
    });
  });
}
