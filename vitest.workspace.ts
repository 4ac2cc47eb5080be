// The test projects of the monorepo; vitest.config.ts feeds this list to `test.projects`.
export default ['packages/format', 'packages/binning', 'packages/store', 'packages/client', 'apps/server', 'apps/web'];
