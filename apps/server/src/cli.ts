#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createServer } from './server';
import { parseDuration, parseSize, type RetentionPolicy } from './retention';
import { reindexCommand } from './reindex-command';
import { migrateCommand } from './migrate';

const USAGE = `Usage: prof-server [--port P] [--host H] [--data DIR] [--token T] [options]
       prof-server reindex [--data DIR] [--index URL --blobs URL]   rebuild the index from the stored documents
  --port P      port to listen on (env PORT; default 8080; 0 = any free port)
  --host H      interface (env HOST; default 127.0.0.1; 0.0.0.0 for every interface)
  --data DIR    data directory (env PROF_DATA; default ./prof-data)
  --index URL   postgres://user:password@host:5432/db[?schema=s]: the index in PostgreSQL, shared by
                every instance given the same URL (env PROF_INDEX; default SQLite in the data directory)
  --blobs URL   s3://[key:secret@]bucket/prefix?endpoint=http://host:9000&region=us-east-1: the documents in
                S3 or an S3-compatible store (env PROF_BLOBS; default files in the data directory;
                credentials also from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
  --upload-lease D  with --index and --blobs: a vmprof upload acknowledged before conversion is taken over by
                another instance once its instance stops renewing it for D (env PROF_UPLOAD_LEASE; default 30s)
  --token T     token for uploads and deletes (env PROF_TOKEN; default: none, anyone may write)
  --runtime-secret S  secret the vmprof client's runtime ids are signed with (env PROF_RUNTIME_SECRET; default
                derived from the token, else random in DIR/runtime.secret); servers sharing a store need the same
  --max-age D   delete profiles uploaded more than D ago, at start and hourly (env PROF_MAX_AGE; 30d, 12h)
  --max-size S  then delete the oldest until the stored profiles fit in S (env PROF_MAX_SIZE; 50GB, 500MiB)
  --max-upload S  largest upload, and largest inflated gzipped vmprof profile (env PROF_MAX_UPLOAD; default
                32GiB; uploads go to disk and vmprof profiles are converted as a stream)
  --max-inflated S  largest inflated size of a gzipped upload other than a vmprof profile, the gzip-bomb bound
                (env PROF_MAX_INFLATED; default 64MiB; past it a gzipped vmprof profile may not inflate 500×)
  --body-timeout D  drop a request whose body stops arriving for D (env PROF_BODY_TIMEOUT; default 30s; 0 = never)
  --anonymous-submit  accept the vmprof-viewer client's /submit/ and vmprof 0.3.x jitlogs without the token (they cannot send one)
  --default-project P  project of uploads that name none (env PROF_DEFAULT_PROJECT), e.g. from \`python -m vmprof --web\`
  --no-demos    do not load the demo profiles into an empty store (never loaded with --index or --blobs)
  --log-level L request and error logs, JSON on stdout: fatal, error, warn, info (one line per request),
                debug, trace, silent (env PROF_LOG_LEVEL; default warn)
  -h, --help    this help

       prof-server migrate --from DIR --to-index postgres://... --to-blobs s3://...
                moves an embedded store to a shared one, resumable (prof-server migrate --help)`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** An environment variable, unset when empty. */
const env = (name: string) => process.env[name] || undefined;

function fail(message: string): never {
  console.error(`prof-server: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  index: { type: 'string' },
  blobs: { type: 'string' },
  'log-level': { type: 'string' },
  token: { type: 'string' },
  'runtime-secret': { type: 'string' },
  'max-age': { type: 'string' },
  'max-size': { type: 'string' },
  'max-inflated': { type: 'string' },
  'max-upload': { type: 'string' },
  'body-timeout': { type: 'string' },
  'upload-lease': { type: 'string' },
  'anonymous-submit': { type: 'boolean' },
  'default-project': { type: 'string' },
  'no-demos': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (error) {
    fail((error as Error).message);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'reindex') {
    process.exitCode = await reindexCommand(process.argv.slice(3));
    return;
  }
  const values = parseCommandLine();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const portText = values.port ?? env('PORT') ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText.trim()) || port > 65535) fail(`--port ${portText} is not a port number`);
  const retention: RetentionPolicy = {};
  let maxInflatedBytes: number | undefined;
  let maxUploadBytes: number | undefined;
  let bodyIdleTimeoutMs: number | undefined;
  let uploadLeaseMs: number | undefined;
  try {
    const uploadLease = values['upload-lease'] ?? env('PROF_UPLOAD_LEASE');
    if (uploadLease) uploadLeaseMs = parseDuration(uploadLease, '--upload-lease');
    const bodyTimeout = values['body-timeout'] ?? env('PROF_BODY_TIMEOUT');
    if (bodyTimeout) bodyIdleTimeoutMs = parseDuration(bodyTimeout, '--body-timeout');
    const maxInflated = values['max-inflated'] ?? env('PROF_MAX_INFLATED');
    if (maxInflated) maxInflatedBytes = parseSize(maxInflated, '--max-inflated');
    const maxUpload = values['max-upload'] ?? env('PROF_MAX_UPLOAD');
    if (maxUpload) maxUploadBytes = parseSize(maxUpload, '--max-upload');
    const maxAge = values['max-age'] ?? env('PROF_MAX_AGE');
    const maxSize = values['max-size'] ?? env('PROF_MAX_SIZE');
    if (maxAge) retention.maxAgeMs = parseDuration(maxAge, '--max-age');
    if (maxSize) retention.maxTotalBytes = parseSize(maxSize, '--max-size');
  } catch (error) {
    fail((error as Error).message);
  }
  const logLevel = values['log-level'] ?? env('PROF_LOG_LEVEL') ?? env('LOG_LEVEL') ?? 'warn';
  if (!LOG_LEVELS.includes(logLevel)) fail(`--log-level ${logLevel}: expected one of ${LOG_LEVELS.join(', ')}`);
  const index = values.index ?? env('PROF_INDEX');
  const blobs = values.blobs ?? env('PROF_BLOBS');
  if (index && !/^postgres(ql)?:\/\//.test(index)) fail('--index: expected a postgres:// URL');
  if (blobs && !blobs.startsWith('s3://')) fail('--blobs: expected an s3:// URL');
  const server = await createServer({
    dataDir: values.data ?? env('PROF_DATA') ?? './prof-data',
    index,
    blobs,
    token: values.token ?? env('PROF_TOKEN') ?? null,
    runtimeSecret: values['runtime-secret'] ?? env('PROF_RUNTIME_SECRET') ?? null,
    anonymousSubmit: values['anonymous-submit'] ?? false,
    maxInflatedBytes,
    maxUploadBytes,
    bodyIdleTimeoutMs,
    uploadLeaseMs,
    defaultProject: values['default-project'] ?? env('PROF_DEFAULT_PROJECT') ?? null,
    demoDir: values['no-demos'] ? null : undefined,
    retention,
    logger: { level: logLevel },
  });
  const url = await server.listen({ port, host: values.host ?? env('HOST') ?? '127.0.0.1' });
  console.log(`Prof server listening on ${url}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const run =
  process.argv[2] === 'migrate' ? migrateCommand(process.argv.slice(3)).then((code) => process.exit(code)) : main();
run.catch((error) => {
  console.error(`prof-server: ${(error as Error).message}`);
  process.exit(1);
});
