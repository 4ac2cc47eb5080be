import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(webRoot, '..', '..');
// CI clones the repository elsewhere with `shared/` beside it.
export const fixtures = join(repoRoot, '..', 'shared', 'fixtures', 'vmprof-fresh');
export const resultsDir = join(repoRoot, 'test-results');
export const serverCli = join(repoRoot, 'apps', 'server', 'dist', 'cli.js');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
