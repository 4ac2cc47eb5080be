// Vitest globalSetup of the projects that test the shared store: one PostgreSQL cluster and one
// S3-protocol server for the whole run, stopped after it. Tests read their addresses with
// `inject('pgUrl')` and `inject('s3')`, and isolate themselves (a schema, a key prefix each).
import { startPostgres, startS3 } from './services.mjs';

export default async function setup(project) {
  const [pg, s3] = await Promise.all([startPostgres({ fast: true }), startS3()]);
  project.provide('pgUrl', pg.url);
  project.provide('s3', {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    url: s3.url(''),
  });
  return async () => {
    await Promise.allSettled([pg.destroy(), s3.destroy()]);
  };
}
