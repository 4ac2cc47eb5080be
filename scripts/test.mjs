#!/usr/bin/env node
// `npm test`: installs what the tests need (workspace packages, Debian's chromium, pypy3 and postgresql when
// missing and we may), builds, runs every vitest project, then prints one line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, installAndBuild } from './lib.mjs';

function have(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** Debian's PostgreSQL lives outside PATH, in /usr/lib/postgresql/<major>/bin. */
function havePostgres() {
  return spawnSync('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/initdb'], { stdio: 'ignore' }).status === 0;
}

function ensureDebianPackages() {
  const missing = [
    ['chromium', 'chromium'],
    ['pypy3', 'pypy3'],
    ['postgresql', 'postgresql'], // the shared-store tests start a throwaway cluster
  ].filter(([bin]) => (bin === 'postgresql' ? !havePostgres() : !have(bin)));
  if (missing.length === 0) return;
  const names = missing.map(([, pkg]) => pkg);
  if (process.getuid?.() !== 0) {
    console.warn(`warning: ${names.join(', ')} missing and not root; install them with apt-get`);
    return;
  }
  console.log(`installing ${names.join(', ')} from Debian...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', '-qq', ...names], { stdio: 'inherit', env });
}

ensureDebianPackages();
installAndBuild();

const outDir = join(root, 'test-results');
mkdirSync(outDir, { recursive: true });
const jsonFile = join(outDir, 'vitest.json');
const args = [
  join(root, 'node_modules/vitest/vitest.mjs'),
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${jsonFile}`,
  ...process.argv.slice(2),
];
const startedAt = Date.now() - 1000;
// The servers the tests start run their worker pool at nice 0 (PROF_WORKER_NICE): niced beside other work on
// the machine, the pool got a tenth of a core and the tests that wait on it ran 20 times longer. Tests
// that measure the server as deployed (spawnServer) keep its default.
const env = { ...process.env, PROF_WORKER_NICE: process.env.PROF_WORKER_NICE ?? '0' };
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env });

// The line counts tests: vitest's failed tests, plus 1 when a suite failed to load (a file whose
// tests never ran) or the runner itself crashed, so a broken run is never reported green.
let passed = 0;
let failed = 0;
let unloaded = 0;
const reported = existsSync(jsonFile) && statSync(jsonFile).mtimeMs >= startedAt;
if (reported) {
  const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  for (const file of report.testResults ?? []) {
    if (file.status !== 'failed' || (file.assertionResults ?? []).some((t) => t.status === 'failed')) continue;
    unloaded++;
    console.error(`suite failed to load: ${file.name}\n${file.message ?? ''}`);
  }
}
// Vitest exits 1 for failed tests; any other exit, a missing report or a red exit with no failed test
// means the runner itself broke.
const crashed = !reported || (r.status !== 0 && (r.status !== 1 || failed === 0));
if (unloaded > 0 || crashed) failed += 1;
const line = `${passed} passed, ${failed} failed`;
writeFileSync(join(outDir, 'summary.txt'), line + '\n');
console.log(line);
process.exit(failed === 0 && r.status === 0 ? 0 : 1);
