#!/usr/bin/env node
// Runs the pnpm pinned in package.json's packageManager field through npx, so a fresh machine
// with only Node and npm needs nothing else (corepack's signature check can fail against npm registry mirrors).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
const result = spawnSync('npx', ['-y', pinned, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
  env: { ...process.env, npm_config_yes: 'true' },
});
process.exit(result.status ?? 1);
