import { defineConfig, defaultClientConditions } from 'vite';
import preact from '@preact/preset-vite';
import { responseChecks } from './responseChecks.ts';

// Workspace packages are bundled from their TypeScript source (condition `@prof/source`), so the web
// build never depends on another package's dist being fresh.
export default defineConfig({
  plugins: [preact(), responseChecks()],
  resolve: { conditions: ['@prof/source', ...defaultClientConditions] },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 800 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
