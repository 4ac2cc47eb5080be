// The repository's test fixtures (`fixtures/`), inflated once into a cache folder where every file
// has its original name. Big files are committed as `NAME.packed.gz` to keep the clone small; tests
// and benches read the inflated tree. The cache is keyed by the packed tree's content, so an edited
// fixture yields a new folder and concurrent test workers never see a half-written one (each builds
// in its own temporary folder and renames it into place).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The committed fixtures, some files packed. Read `fixturesDir` instead. */
export const packedFixturesDir = join(repoRoot, 'fixtures');

const PACKED = '.packed.gz';

function listFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

function contentKey(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(packedFixturesDir, file));
    hash.update('\0');
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

function materialize() {
  const files = listFiles(packedFixturesDir);
  const target = join(tmpdir(), `prof-fixtures-${contentKey(files)}`);
  if (existsSync(join(target, '.complete'))) return target;
  const building = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  for (const file of files) {
    const rel = relative(packedFixturesDir, file);
    const out = join(building, rel.endsWith(PACKED) ? rel.slice(0, -PACKED.length) : rel);
    mkdirSync(dirname(out), { recursive: true });
    if (rel.endsWith(PACKED)) writeFileSync(out, gunzipSync(readFileSync(file)));
    else cpSync(file, out);
  }
  writeFileSync(join(building, '.complete'), '');
  try {
    renameSync(building, target);
  } catch {
    // Another worker renamed its copy first; theirs is identical.
    rmSync(building, { recursive: true, force: true });
  }
  return target;
}

/** The fixtures tree with every file inflated to its original name. */
export const fixturesDir = materialize();
