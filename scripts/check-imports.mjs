#!/usr/bin/env node
// The import rules of the monorepo, checked over every source and test file (run by `npm run lint`):
// - apps import the packages through their public entries only (`@prof/format`, `@prof/format/node`:
//   the keys of each package.json's `exports`), never a package's files by path;
// - packages never import apps, and import each other through public entries too;
// - no file under apps/*/src builds a document or parses msgpack itself: that is @prof/format's;
// - no file under apps/*/src walks the samples itself (indexes a sample column, loops over
//   `samples.length`): aggregating samples is @prof/binning's;
// - @prof/format and @prof/binning know nothing of HTTP (no fastify, no HttpError, no status codes):
//   they throw their own errors (ProfFormatError, BinningError) and only the server maps them.
// `node scripts/check-imports.mjs [root]` checks another tree laid out the same way (the rules' own test).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.argv[2] ? resolve(process.argv[2]) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;
const SKIP = new Set(['node_modules', 'dist', 'test-results', '.vite']);

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Workspace packages by name: their folder and the subpaths their `exports` allow. */
const workspaces = new Map();
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const entries = new Set(Object.keys(pkg.exports ?? { '.': null }).map((k) => (k === '.' ? '' : k.slice(1))));
    workspaces.set(pkg.name, { dir, group, entries });
  }
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
/** What only @prof/format may do: build documents, decode msgpack. */
const APP_FORBIDDEN_NAMES = /\b(DocumentBuilder|emptyMeta)\b/;
const APP_FORBIDDEN_MODULES = new Set(['msgpackr', '@msgpack/msgpack']);
/** What only @prof/binning may do: read the samples one by one (`doc.samples.stack[i]`, `i < doc.samples.length`). */
const APP_SAMPLE_WALK =
  /\bsamples\s*\.\s*(?:time|stack|thread|memory|heap|weight)\s*\[|<=?\s*[\w.]*\bsamples\.length\b/;
/** Packages that hold profile logic, and what would tie them to HTTP. */
const DOMAIN_PACKAGES = new Set(['format', 'binning']);
const DOMAIN_FORBIDDEN = /\b(HttpError|statusCode|FastifyReply|reply\.code)\b/;
const DOMAIN_FORBIDDEN_MODULES = /^(fastify|@fastify\/.*|@prof\/api)$/;

const problems = [];
for (const group of ['apps', 'packages']) {
  for (const file of files(join(root, group))) {
    const rel = relative(root, file);
    const [, owner] = rel.split(sep);
    const ownerDir = join(root, group, owner);
    const text = readFileSync(file, 'utf8');
    const inAppSource = group === 'apps' && rel.split(sep)[2] === 'src';
    if (inAppSource && APP_FORBIDDEN_NAMES.test(text))
      problems.push(`${rel}: builds a document (${text.match(APP_FORBIDDEN_NAMES)[1]}); that belongs in @prof/format`);
    if (inAppSource && APP_SAMPLE_WALK.test(text))
      problems.push(
        `${rel}: walks the samples itself (${text.match(APP_SAMPLE_WALK)[0].trim()}); aggregating samples belongs in @prof/binning`,
      );
    const inDomainSource = group === 'packages' && DOMAIN_PACKAGES.has(owner) && rel.split(sep)[2] === 'src';
    if (inDomainSource && DOMAIN_FORBIDDEN.test(text))
      problems.push(
        `${rel}: speaks HTTP (${text.match(DOMAIN_FORBIDDEN)[1]}); throw the package's own error, the server maps it to a status`,
      );
    for (const [, spec] of text.matchAll(IMPORT)) {
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(dirname(file), spec));
        const [top, name, folder] = target.split(sep);
        if (group === 'packages' && top === 'apps') problems.push(`${rel}: imports the app ${name} (${spec})`);
        // Another package's test helpers (ground truth readers) may be shared; its code may not.
        const sharedTestHelper = folder === 'test' && rel.split(sep)[2] === 'test' && top === 'packages';
        if ((top === 'packages' || top === 'apps') && join(root, top, name) !== ownerDir && !sharedTestHelper)
          problems.push(`${rel}: reaches into ${top}/${name} by path (${spec}); import its public entry`);
        continue;
      }
      if (inAppSource && APP_FORBIDDEN_MODULES.has(spec))
        problems.push(`${rel}: decodes msgpack itself (${spec}); that belongs in @prof/format`);
      if (inDomainSource && DOMAIN_FORBIDDEN_MODULES.test(spec))
        problems.push(`${rel}: imports ${spec}; profile logic knows nothing of HTTP`);
      const match = /^(@prof\/[^/]+)(\/.*)?$/.exec(spec);
      if (!match) continue;
      const target = workspaces.get(match[1]);
      if (!target) continue;
      if (group === 'packages' && target.group === 'apps') problems.push(`${rel}: imports the app ${match[1]}`);
      if (!target.entries.has(match[2] ?? ''))
        problems.push(
          `${rel}: imports ${spec}, not a public entry of ${match[1]} (${[...target.entries].map((e) => match[1] + e).join(', ')})`,
        );
    }
  }
}

if (problems.length) {
  console.error(`import rules (scripts/check-imports.mjs): ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('import rules: ok');
