/**
 * For the packages' pack tests: `pnpm pack` workspace libraries, install the tarballs with npm into
 * a scratch project outside the workspace (dependencies from the npm registry), and run plain
 * Node ESM there, as a user of the published packages would.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Scratch {
  /** The scratch project directory (outside the workspace). */
  dir: string;
  /** The package.json of an installed package, as packed. */
  manifest(name: string): Record<string, any>;
  /** Runs `source` as an ES module file in the scratch project with plain `node`. */
  run(source: string, args?: string[], env?: Record<string, string>): SpawnSyncReturns<string>;
  /** Runs the example a package's README opens with (its first js block), as installed. */
  runReadmeExample(name: string, args?: string[], env?: Record<string, string>): SpawnSyncReturns<string>;
  remove(): void;
}

function check(r: SpawnSyncReturns<string>, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * Packs `packages/<name>` for each name (their `dist` must be built: `npm test` builds first) and
 * installs all tarballs together, so workspace dependencies resolve to the packed siblings.
 * Install scripts are not run; a native addon among the dependencies (`native`, e.g.
 * better-sqlite3) gets the build the workspace already made for this Node when the versions agree
 * (compiling SQLite again takes about 3 minutes here), else it is rebuilt.
 */
export function packAndInstall(names: string[], options: { native?: string[] } = {}): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'prof-pack-'));
  try {
    const tarballs = join(dir, 'tarballs');
    for (const name of names) {
      const pkg = join(repoRoot, 'packages', name);
      if (!existsSync(join(pkg, 'dist'))) throw new Error(`build first: ${pkg}/dist is missing (npm test builds it)`);
      const packed = spawnSync(
        process.execPath,
        [join(repoRoot, 'scripts/pnpm.mjs'), 'pack', '--pack-destination', tarballs],
        { cwd: pkg, encoding: 'utf8' },
      );
      check(packed, `pnpm pack in ${pkg}`);
    }
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'prof-pack-check', private: true, type: 'module' }),
    );
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    expect(files).toHaveLength(names.length);
    const install = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', ...files],
      { cwd: project, encoding: 'utf8' },
    );
    check(install, 'npm install of the tarballs');
    for (const native of options.native ?? []) provideNativeBuild(project, native, names);
    return {
      dir: project,
      manifest: (name) => JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')),
      run(source, args = [], env = {}) {
        writeFileSync(join(project, 'check.mjs'), source);
        return spawnSync(process.execPath, ['check.mjs', ...args], {
          cwd: project,
          encoding: 'utf8',
          timeout: 120_000,
          env: { ...process.env, ...env },
        });
      },
      runReadmeExample(name, args, env) {
        const readme = readFileSync(join(project, 'node_modules', name, 'README.md'), 'utf8');
        const example = /```js\n([\s\S]*?)```/.exec(readme);
        if (!example) throw new Error(`${name}: README.md has no js example`);
        return this.run(example[1], args, env);
      },
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * `packAndInstall` once for the enclosing describe block (before its tests, removed after them);
 * returns a getter for the scratch project.
 */
export function packedInstall(names: string[], options: { native?: string[] } = {}): () => Scratch {
  let scratch: Scratch | undefined;
  beforeAll(() => {
    scratch = packAndInstall(names, options);
  }, 600_000);
  afterAll(() => scratch?.remove());
  return () => {
    if (!scratch) throw new Error('packedInstall: the scratch project was not made (see the error of beforeAll)');
    return scratch;
  };
}

function provideNativeBuild(project: string, dependency: string, names: string[]): void {
  const installed = join(project, 'node_modules', dependency);
  const version = (p: string) => JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')).version as string;
  const requireFrom = createRequire(join(repoRoot, 'packages', names[names.length - 1], 'package.json'));
  const workspaceCopy = dirname(requireFrom.resolve(`${dependency}/package.json`));
  if (version(workspaceCopy) === version(installed) && existsSync(join(workspaceCopy, 'build', 'Release'))) {
    cpSync(join(workspaceCopy, 'build', 'Release'), join(installed, 'build', 'Release'), { recursive: true });
    return;
  }
  check(spawnSync('npm', ['rebuild', dependency], { cwd: project, encoding: 'utf8' }), `npm rebuild ${dependency}`);
}

/**
 * What makes a package publishable as it is: identity and licence, ESM `exports` with types whose
 * files are in the tarball (and no workspace-only condition), `files`, `sideEffects: false`, a
 * README, and dependencies with real version ranges (pnpm rewrites `workspace:` ones).
 */
export function expectPublishable(scratch: Scratch, name: string): void {
  const m = scratch.manifest(name);
  const root = join(scratch.dir, 'node_modules', name);
  expect(m.name).toBe(name);
  expect(m.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(m.license).toBe('MIT');
  expect(m.type).toBe('module');
  expect(m.sideEffects).toBe(false);
  expect(m.files).toEqual(expect.arrayContaining(['dist', 'README.md']));
  expect(existsSync(join(root, 'README.md')), 'README.md in the tarball').toBe(true);
  expect(m.engines?.node).toBe('>=20');
  for (const [entry, target] of Object.entries(m.exports as Record<string, unknown>)) {
    if (entry === './package.json') continue;
    const t = target as Record<string, string>;
    expect(Object.keys(t), `exports["${entry}"]`).toEqual(['types', 'import']);
    expect(existsSync(join(root, t.types)), `${entry} types ${t.types}`).toBe(true);
    expect(existsSync(join(root, t.import)), `${entry} import ${t.import}`).toBe(true);
  }
  for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies } as Record<string, string>)) {
    expect(range, `${dep} range`).toMatch(/^\^\d+\.\d+\.\d+$/);
  }
}
