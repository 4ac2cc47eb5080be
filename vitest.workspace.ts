// The test projects of the monorepo; vitest.config.ts feeds this list to `test.projects`.
export default [
  'packages/format',
  'packages/binning',
  'packages/store',
  'packages/client',
  'packages/api',
  'apps/server',
  'apps/web',
  // The server's store-facing suites again, on PostgreSQL + S3 (helpers.startServer reads PROF_TEST_STORE);
  // the whole server suite that way: PROF_TEST_STORE=shared ... --project @prof/server (CONTRIBUTING.md).
  {
    extends: './apps/server/vitest.config.ts',
    root: './apps/server',
    test: {
      name: '@prof/server:shared-store',
      include: ['test/{api,protocols,faults,heap,compare,cpu-api,hostile-requests,summaries-build}.test.ts'],
      env: { PROF_TEST_STORE: 'shared' },
    },
  },
];
