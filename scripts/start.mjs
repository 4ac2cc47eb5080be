#!/usr/bin/env node
// `npm start`: installs, builds, and starts the server with the web UI on the embedded store
// (./prof-data, demo profiles loaded on first start). Extra arguments go to prof-server.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, installAndBuild } from './lib.mjs';

installAndBuild();
const r = spawnSync(process.execPath, [join(root, 'apps/server/dist/cli.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 0);
