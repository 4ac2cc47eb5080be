import { gzipSync } from 'node:zlib';

/**
 * A legacy (vmprof 0.1-0.3) call tree nested `depth` deep, every node with one sample of its own. Built
 * as text: JSON.stringify itself recurses too deep for 10,001 levels.
 */
export function nestedTree(depth: number): string {
  let open = '';
  let close = '';
  for (let i = depth - 1; i >= 0; i--) {
    open += `["py:f${i}:1:a.py","${i + 2}",${i + 2},{},[`;
    close += ']]';
  }
  return `{"profiles":${open}["py:leaf:1:a.py","1",1,{},[]]${close},"argv":"deep.py","VM":"CPython"}`;
}

/**
 * 1.5 GB of zeros as 1,500 gzip members of 1 MiB each (a valid gzip stream: members concatenate), 1.5 MB
 * on the wire, so the test never holds the inflated bytes either; every server path inflates it as one stream.
 */
export function gzipBomb(): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: 1500 }, () => member));
}
