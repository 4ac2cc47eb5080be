// Vitest globalSetup of the projects that test the shared store: one PostgreSQL cluster and one
// S3-protocol server for the whole run, stopped after it. Tests read their addresses with
// `inject('pgUrl')` and `inject('s3')`, and isolate themselves (a schema, a key prefix each).
// Vitest runs the projects' globalSetups one after the other in its own process, before any test:
// the projects share the services the first one starts (4.5 s a start on a loaded machine; three
// projects use them), and the last one's teardown stops them.
import { startPostgres, startS3 } from './services.mjs';

const SHARED = Symbol.for('prof.vitest-services');

export default async function setup(project) {
  /** @type {{ started: Promise<[Awaited<ReturnType<typeof startPostgres>>, Awaited<ReturnType<typeof startS3>>]>, users: number }} */
  const shared = (globalThis[SHARED] ??= {
    // three projects' connections on one cluster: room for all of them
    started: Promise.all([startPostgres({ fast: true, maxConnections: 400 }), startS3()]),
    users: 0,
  });
  shared.users++;
  const [pg, s3] = await shared.started;
  project.provide('pgUrl', pg.url);
  project.provide('s3', {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    url: s3.url(''),
  });
  return async () => {
    if (--shared.users > 0) return;
    delete globalThis[SHARED];
    await Promise.allSettled([pg.destroy(), s3.destroy()]);
  };
}
