import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RuntimeParams, StatusOk, UploadBody, UploadQuery, UploadResponse } from '@prof/api';
import type { Static } from 'typebox';
import { responses, tagsOf } from '../contract';
import { createReadStream } from 'node:fs';
import { open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { newProfileId, isProfileId, type ProfileRow } from '@prof/store';
import { HttpError } from '../http-error';
import { drainBody, readSmallBody, parseJsonBody, streamBodyToFile } from '../body';
import { assertInflatesWithin, isGzip, type IngestLimits, type Overrides } from '../ingest';
import type { AppContext } from '../context';
import type { UploadJob } from '../upload-queue';
import { movable } from '../work-pool';
import type { Converted } from '../worker/tasks';

/**
 * Bodies up to this size are read into memory; larger ones are spooled to disk first, so uploads
 * waiting for an ingest slot hold disk, not memory (30 concurrent 31 MB uploads held 958 MB).
 */
const IN_MEMORY_UPLOAD = 1024 * 1024;
/** JSON bodies of the protocol calls (`runtime/new`, legacy trees). */
const SMALL_JSON = 64 * 1024;
const LEGACY_TREE_LIMIT = 256 * 1024 * 1024;

/** A gzipped vmprof profile may inflate up to the upload limit: it is converted as a stream. */
const ingestLimits = (ctx: AppContext): IngestLimits => ({
  maxInflatedBytes: ctx.maxInflatedBytes,
  maxRawBytes: ctx.maxUploadBytes,
});

/** fixmap (0x80-0x8f), map 16, map 32. */
const isMsgpackMap = (byte: number | undefined) =>
  byte !== undefined && ((byte >= 0x80 && byte <= 0x8f) || byte === 0xde || byte === 0xdf);

/** Query parameters that fill or override what the document says, and the server's default project. */
function overridesFrom(query: Static<typeof UploadQuery>, ctx: AppContext): Overrides {
  const overrides: Overrides = {};
  if (ctx.defaultProject) overrides.defaultProject = ctx.defaultProject;
  const { project, name } = query;
  if (project !== undefined) overrides.project = project.slice(0, 500);
  if (name !== undefined) overrides.name = name.slice(0, 500);
  // Every value is key=value (the schema's pattern).
  const tags = tagsOf(query.tag) as Record<string, string>;
  if (Object.keys(tags).length) overrides.tags = tags;
  return overrides;
}

/**
 * The vmprof client's `argv` (long, without the script name) and `VM` from `runtime/new`, and the
 * query of its base URL (`--web-url http://host/?project=etl`).
 */
interface RuntimeSession {
  argv: string | null;
  vm: string | null;
  overrides: Overrides;
}
const MAX_SESSIONS = 10_000;

export function registerUploads(server: FastifyInstance, ctx: AppContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  // Uploads take the raw request stream whatever the Content-Type (curl's --data-binary sends
  // application/x-www-form-urlencoded, vmprof 0.4.10+ sends none, the vmprof-viewer client sends x-msgpack).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const sessions = new Map<string, RuntimeSession>();

  app.post(
    '/api/profiles',
    { schema: { querystring: UploadQuery, body: UploadBody, response: responses(UploadResponse, 201) } },
    async (request, reply) => {
      const overrides = overridesFrom(request.query, ctx);
      const id = newProfileId();
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > ctx.maxUploadBytes) {
        reply.header('Connection', 'close');
        throw new HttpError(
          413,
          'too-large',
          `upload of ${declared} bytes exceeds the limit of ${ctx.maxUploadBytes} bytes`,
        );
      }
      // Validated or converted on the worker pool once the body is read (503 busy when its queue is full);
      // not put in the decoded cache: only views fill it.
      const store = async (converting: Promise<Converted>) => {
        const converted = await converting;
        const { summary } = converted;
        let row: ProfileRow;
        try {
          row = await ctx.store.put(converted.bytes, converted.fields, { id });
        } catch (error) {
          if (summary) await rm(summary.path, { force: true });
          throw error;
        }
        // Built during a streamed conversion, else built now from the stored document.
        if (summary) ctx.summaries.adopt(id, summary);
        else ctx.summaries.stored(id);
        return row;
      };
      const limits = ingestLimits(ctx);
      let row: ProfileRow;
      if (Number.isFinite(declared) && declared <= IN_MEMORY_UPLOAD) {
        const body = await readSmallBody(request.raw, Math.min(IN_MEMORY_UPLOAD, ctx.maxUploadBytes));
        row = await store(
          ctx.pool.run(
            'ingestUpload',
            { bytes: body, overrides, limits },
            { transfer: movable(body), conversion: 'prof' },
          ),
        );
      } else {
        const spool = join(ctx.uploads.dir, `${id}.direct`);
        try {
          // A spool is read back once and deleted: no fsync (the stored document gets one).
          await streamBodyToFile(request.raw, spool, ctx.maxUploadBytes, { durable: false });
          row = await store(
            ctx.pool.run(
              'ingestUpload',
              { path: spool, overrides, limits, summaryDir: ctx.summaries.scratchDir },
              { conversion: 'prof' },
            ),
          );
        } finally {
          await unlink(spool).catch(() => {});
        }
      }
      return reply.code(201).send({ id: row.id, url: `/profiles/${row.id}` });
    },
  );

  // --- vmprof client, protocol C (0.4.x): runtime/new, upload, freeze (vmprof-upload-protocol.md §2)

  app.post(
    '/api/runtime/new',
    { schema: { querystring: UploadQuery, response: responses(StatusOk) } },
    async (request) => {
      const parsed = parseJsonBody(await readSmallBody(request.raw, SMALL_JSON));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new HttpError(
          400,
          'bad-json',
          'runtime/new: expected a JSON object like {"argv": "...", "VM": "cpython"}',
        );
      const body = parsed as { argv?: unknown; VM?: unknown };
      const id = ctx.runtimeIds.issue();
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      sessions.set(id, {
        argv: typeof body.argv === 'string' ? body.argv.slice(0, 4096) : null,
        vm: typeof body.VM === 'string' && body.VM !== 'unknown' ? body.VM.toLowerCase().slice(0, 100) : null,
        overrides: overridesFrom(request.query, ctx),
      });
      return { status: 'ok', runtime_id: id };
    },
  );

  app.post(
    '/api/runtime/upload/cpu/:rid/add',
    { schema: { params: RuntimeParams, querystring: UploadQuery, body: UploadBody, response: responses(StatusOk) } },
    async (request) => {
      const rid = issuedRuntime(ctx, request);
      if (ctx.uploads.has(rid) || (await ctx.store.get(rid))) {
        throw new HttpError(400, 'already-uploaded', `runtime ${rid} already has a profile`);
      }
      const session = sessions.get(rid);
      const overrides: Overrides = { ...session?.overrides, ...overridesFrom(request.query, ctx) };
      if (session?.vm) overrides.interpreter = session.vm;
      if (session?.argv) overrides.argv = session.argv.split(' ');
      await acceptForConversion(ctx, request, {
        id: rid,
        kind: 'profile',
        contentType: request.headers['content-type'] ?? null,
        overrides,
        receivedAt: Date.now(),
      });
      return { status: 'ok' };
    },
  );

  // We keep no JIT logs: the client needs 200 and JSON; without `jid` it prints the profile's link.
  app.post(
    '/api/runtime/upload/jit/:rid/add',
    { schema: { params: RuntimeParams, response: responses(StatusOk) } },
    async (request) => {
      issuedRuntime(ctx, request);
      await drainBody(request.raw, ctx.maxUploadBytes);
      return { status: 'ok' };
    },
  );

  app.post(
    '/api/runtime/:rid/freeze',
    { schema: { params: RuntimeParams, response: responses(StatusOk) } },
    async (request) => {
      const rid = issuedRuntime(ctx, request);
      await readSmallBody(request.raw, SMALL_JSON); // empty, though it claims application/json
      sessions.delete(rid);
      return { status: 'ok' };
    },
  );

  // --- vmprof 0.1-0.3: call-tree uploads (protocols A and B), kept as CPU-only profiles.
  const legacy = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = await readSmallBody(request.raw, LEGACY_TREE_LIMIT);
    // Validated by legacySchema below (a handler shared by two routes is not typed by either).
    const overrides = overridesFrom(request.query as Static<typeof UploadQuery>, ctx);
    const converted = await ctx.pool.run(
      'convertLegacyTree',
      { body, overrides },
      { transfer: movable(body), conversion: 'vmprof-legacy' },
    );
    const row = await ctx.store.put(converted.bytes, converted.fields);
    ctx.summaries.stored(row.id);
    // The client strips the first and last character: the body must be exactly "<id>".
    return reply.type('application/json').send(JSON.stringify(row.id));
  };
  const legacySchema = { schema: { querystring: UploadQuery, body: UploadBody, response: responses(null) } };
  app.post('/api/log', legacySchema, legacy);
  app.post('/api/profile', legacySchema, legacy);
  // vmprof 0.3.x never sends the token here: like the vmprof-viewer client's /submit/, only --anonymous-submit lets it in.
  const anonymous = { config: { anonymousSubmit: true }, schema: { body: UploadBody, response: responses(null) } };
  const jitlog = async (request: FastifyRequest, reply: FastifyReply) => {
    await drainBody(request.raw, ctx.maxUploadBytes);
    const id = (request.params as { id?: string }).id;
    return reply.type('application/json').send(JSON.stringify(id && isProfileId(id) ? id : newProfileId()));
  };
  app.post('/api/jitlog/:id', anonymous, jitlog);
  app.post('/api/jitlog', anonymous, jitlog);

  // --- the vmprof-viewer client (vmprof_viewer_client): POST /submit/, one msgpack map, reply a path.
  app.post('/submit', anonymous, async (request, reply) => {
    const id = newProfileId();
    await acceptForConversion(ctx, request, {
      id,
      kind: 'vmprof-viewer',
      contentType: request.headers['content-type'] ?? null,
      overrides: {},
      receivedAt: Date.now(),
    });
    return reply.type('text/html; charset=utf-8').send(`/profiles/${id}`);
  });
}

/** The `:rid` of a runtime route, if this server issued it (`runtime/new`): the client cannot pick its own id. */
function issuedRuntime(ctx: AppContext, request: FastifyRequest): string {
  const rid = (request.params as { rid: string }).rid;
  if (!ctx.runtimeIds.verify(rid))
    throw new HttpError(
      404,
      'unknown-runtime',
      `runtime id ${JSON.stringify(String(rid).slice(0, 64))} was not issued by this server (POST /api/runtime/new first)`,
    );
  return rid;
}

/** The first bytes of a spooled body. */
async function headOf(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(length);
    return head.subarray(0, (await handle.read(head, 0, length, 0)).bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Stores the raw body durably, answers, and lets the queue convert it. A gzipped body is inflated
 * (counted, not kept) before the answer, so a bomb gets its 413 here instead of a 200 and a failed
 * conversion; a vmprof-viewer body that is no msgpack map is refused at once.
 */
async function acceptForConversion(ctx: AppContext, request: FastifyRequest, job: UploadJob): Promise<void> {
  ctx.uploads.reserve(job.id);
  try {
    await ctx.uploads.writeJob(job);
    const path = ctx.uploads.bodyPath(job.id);
    await streamBodyToFile(request.raw, path, ctx.maxUploadBytes);
    const head = await headOf(path, 2);
    if (isGzip(head)) await assertInflatesWithin(createReadStream(path), ingestLimits(ctx));
    if (job.kind === 'vmprof-viewer' && !isMsgpackMap(head[0])) {
      throw new HttpError(
        400,
        'bad-submit',
        `submit body: expected a msgpack map, got first byte ${head.length ? `0x${head[0].toString(16)}` : 'none (empty body)'}`,
      );
    }
    // With a shared store, recorded there (leased to this instance) before the answer.
    if (!(await ctx.uploads.accept(job)))
      throw new HttpError(400, 'already-uploaded', `runtime ${job.id} already has a profile`);
  } catch (error) {
    await ctx.uploads.discardJob(job.id);
    ctx.uploads.release(job.id);
    throw error;
  }
}
