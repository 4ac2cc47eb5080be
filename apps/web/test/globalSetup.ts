// Builds what the browser tests run (the web app, the server, the `prof` CLI) when a build is missing
// or older than its sources: the repository's test command builds everything first, but a lone
// `vitest run` after an edit must not test stale code.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clientCli, repoRoot, serverCli, webRoot } from './harness.mjs';

/** The newest modification time under the given files and folders (0 when none exist). */
function newestSource(paths: string[]): number {
  let newest = 0;
  const visit = (path: string): void => {
    if (!existsSync(path)) return;
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) if (name !== 'node_modules' && name !== 'dist') visit(join(path, name));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

function stale(output: string, sources: string[]): boolean {
  return !existsSync(output) || statSync(output).mtimeMs < newestSource(sources);
}

const packageSources = (...names: string[]) => names.map((n) => join(repoRoot, 'packages', n, 'src'));

function build(filter: string): void {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'pnpm.mjs'), '--filter', filter, 'run', 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
}

export default function setup(): void {
  const webSources = [join(webRoot, 'src'), join(webRoot, 'index.html'), join(webRoot, 'vite.config.ts')];
  if (stale(join(webRoot, 'dist', 'index.html'), [...webSources, ...packageSources('api', 'format', 'binning')])) {
    execFileSync(process.execPath, [join(webRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
      cwd: webRoot,
      stdio: 'inherit',
    });
  }
  if (
    stale(serverCli, [join(repoRoot, 'apps', 'server', 'src'), ...packageSources('api', 'format', 'binning', 'store')])
  )
    build('@prof/server...');
  if (stale(clientCli, packageSources('client', 'format'))) build('@prof/client...');
}
