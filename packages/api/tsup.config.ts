import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  // Declarations are for code that imports the built package; `npm test` and `npm start` build to run
  // it (PROF_BUILD=run, scripts/lib.mjs) and skip them here, the slowest step of their build (the pack
  // tests read the declarations of the packages they pack, which keep theirs).
  dts: process.env.PROF_BUILD !== 'run',
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
