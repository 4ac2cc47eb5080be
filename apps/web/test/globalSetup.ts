// Builds what the browser tests run (the web app, the server, the `prof` CLI) only when their dist
// is missing: the repository's test command builds everything first, so this is for a lone `vitest run`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clientCli, repoRoot, serverCli, webRoot } from './harness.mjs';

export default function setup(): void {
  if (!existsSync(join(webRoot, 'dist', 'index.html'))) {
    execFileSync(process.execPath, [join(webRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
      cwd: webRoot,
      stdio: 'inherit',
    });
  }
  if (!existsSync(serverCli)) {
    execFileSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'pnpm.mjs'), '--filter', '@prof/server...', 'run', 'build'],
      { cwd: repoRoot, stdio: 'inherit' },
    );
  }
  if (!existsSync(clientCli)) {
    execFileSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'pnpm.mjs'), '--filter', '@prof/client...', 'run', 'build'],
      { cwd: repoRoot, stdio: 'inherit' },
    );
  }
}
