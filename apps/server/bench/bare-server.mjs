// The ceiling for the document GET figure: a bare node:http server answering every request with the
// same bytes from memory (no routing, no lookups). Usage: node bare-server.mjs FILE
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const bytes = readFileSync(process.argv[2]);
const server = createServer((_request, response) => {
  response.writeHead(200, {
    'content-type': 'application/x-msgpack',
    'content-encoding': 'gzip',
    'content-length': bytes.length,
  });
  response.end(bytes);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
