// Shared steps of the two README commands: install with the pinned pnpm, build every workspace package.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

export function pnpm(...args) {
  run(process.execPath, [join(root, 'scripts/pnpm.mjs'), ...args]);
}

export function installAndBuild() {
  pnpm('install', '--frozen-lockfile');
  // A build to run the code, not to publish it: the server and @prof/api skip their type declarations
  // (the server's alone took 41-74 s of a loaded build, on its critical path). `npm run build` makes them.
  run(process.execPath, [join(root, 'scripts/pnpm.mjs'), '-r', 'run', 'build'], {
    env: { ...process.env, PROF_BUILD: 'run' },
  });
}
