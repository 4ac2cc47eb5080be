#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createServer } from './server';

const USAGE = `Usage: prof-server [--port P] [--host H] [--data DIR] [--token T] [--anonymous-submit] [--no-demos]
  --port   port to listen on (env PORT, default 8000; 0 = random)
  --host   interface (default 127.0.0.1; 0.0.0.0 for every interface)
  --data   data directory (env PROF_DATA, default ./prof-data)
  --token  token for uploads and deletes (env PROF_TOKEN; default: open)
  --anonymous-submit  accept the seed client's /submit/ without the token
  --no-demos          do not load the demo profiles into an empty store`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      token: { type: 'string' },
      'anonymous-submit': { type: 'boolean' },
      'no-demos': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const portText = values.port ?? process.env.PORT ?? '8000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`prof-server: --port ${portText} is not a port number\n${USAGE}`);
    process.exit(2);
  }
  const host = values.host ?? process.env.HOST ?? '127.0.0.1';
  const server = await createServer({
    dataDir: values.data ?? process.env.PROF_DATA ?? './prof-data',
    token: values.token ?? process.env.PROF_TOKEN ?? null,
    anonymousSubmit: values['anonymous-submit'] ?? false,
    demoDir: values['no-demos'] ? null : undefined,
    logger: { level: process.env.LOG_LEVEL ?? 'warn' },
  });
  const url = await server.listen({ port, host });
  console.log(`Prof server listening on ${url}`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(`prof-server: ${(error as Error).message}`);
  process.exit(1);
});
