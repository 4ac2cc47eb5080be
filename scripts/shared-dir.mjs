// Where the team's shared material (docs/, fixtures/) is: beside the repository as `../shared`.
// A fresh clone elsewhere (CI, `git clone . "$(mktemp -d)/fresh"`) finds it beside the repository
// it was cloned from, else in this workplace's fixed place. PROF_SHARED overrides them all.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const WORKPLACE_SHARED = '/work/shared';

function originSibling() {
  try {
    const url = execFileSync('git', ['-C', repoRoot, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8' }).trim();
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    return isAbsolute(path) ? join(path, '..', 'shared') : null;
  } catch {
    return null;
  }
}

function findShared() {
  const candidates = [process.env.PROF_SHARED, join(repoRoot, '..', 'shared'), originSibling(), WORKPLACE_SHARED].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, 'fixtures')));
  if (!found) {
    throw new Error(`shared fixtures not found (looked in ${candidates.join(', ')}); set PROF_SHARED to the folder holding fixtures/`);
  }
  return resolve(found);
}

/** The shared folder (holds `docs/` and `fixtures/`). */
export const sharedDir = findShared();
/** `<shared>/fixtures`. */
export const fixturesDir = join(sharedDir, 'fixtures');
