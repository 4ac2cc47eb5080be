import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

// Profile logic stays in @prof/format and @prof/binning only while the apps cannot reach around them.
it('apps import packages through public entries only, packages never import apps (scripts/check-imports.mjs)', () => {
  const run = spawnSync(process.execPath, [join(import.meta.dirname, '../../../scripts/check-imports.mjs')], {
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
});
