// The test projects of the monorepo; vitest.config.ts feeds this list to `test.projects`.
export default [
  'packages/format',
  'packages/binning',
  'packages/store',
  'packages/client',
  'packages/api',
  'apps/server',
  'apps/web',
  // The server's store-facing suites again, on PostgreSQL + S3 (helpers.startServer reads PROF_TEST_STORE).
  {
    extends: './apps/server/vitest.config.ts',
    root: './apps/server',
    test: {
      name: '@prof/server:shared-store',
      include: ['test/{api,protocols,faults,heap}.test.ts'],
      env: { PROF_TEST_STORE: 'shared' },
    },
  },
];
