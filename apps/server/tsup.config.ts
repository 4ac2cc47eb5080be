import { defineConfig } from 'tsup';

export default defineConfig({
  // worker/tasks: the worker pool's module, loaded by path (work-pool.ts)
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', 'worker/tasks': 'src/worker/tasks.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
