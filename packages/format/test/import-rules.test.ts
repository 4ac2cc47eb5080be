import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const script = join(import.meta.dirname, '../../../scripts/check-imports.mjs');
const check = (root?: string) => spawnSync(process.execPath, root ? [script, root] : [script], { encoding: 'utf8' });

// Profile logic stays in @prof/format and @prof/binning only while the apps cannot reach around them.
it('apps import packages through public entries only, packages never import apps (scripts/check-imports.mjs)', () => {
  const run = check();
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
});

const scratch = mkdtempSync(join(tmpdir(), 'prof-import-rules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An import line, written so that this file's own imports stay what the real check sees. */
const importLine = (names: string, spec: string) => `import ${names} from '${spec}';\n`;

/** A small monorepo laid out as ours: two packages and an app, each file given by its path. */
function tree(name: string, files: Record<string, string>): string {
  const root = join(scratch, name);
  const all: Record<string, string> = {
    'packages/format/package.json': JSON.stringify({ name: '@prof/format', exports: { '.': {}, './node': {} } }),
    'packages/binning/package.json': JSON.stringify({ name: '@prof/binning', exports: { '.': {} } }),
    'apps/server/package.json': JSON.stringify({ name: '@prof/server' }),
    'packages/binning/src/index.ts': 'export const ok = 1;\n',
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

it('refuses each way an app or a package can hold logic that is not its own', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'deep import',
      { 'apps/server/src/a.ts': importLine('{ x }', '@prof/binning/src/profileColumns') },
      /not a public entry of @prof\/binning/,
    ],
    [
      'by path',
      { 'apps/server/src/a.ts': importLine('{ x }', '../../../packages/binning/src/index') },
      /reaches into packages\/binning by path/,
    ],
    ['package imports app', { 'packages/binning/src/a.ts': importLine('{ x }', '@prof/server') }, /imports the app/],
    [
      'app builds a document',
      { 'apps/server/src/a.ts': importLine('{ DocumentBuilder }', '@prof/format') + 'new DocumentBuilder();\n' },
      /builds a document/,
    ],
    ['app decodes msgpack', { 'apps/server/src/a.ts': importLine('{ unpack }', 'msgpackr') }, /decodes msgpack/],
    [
      'app indexes a sample column',
      { 'apps/server/src/a.ts': 'export const f = (doc) => doc.samples.thread[0];\n' },
      /walks the samples itself .*@prof\/binning/,
    ],
    [
      'app loops over the samples',
      { 'apps/server/src/a.ts': 'export function f(doc) { for (let i = 0; i < doc.samples.length; i++) g(i); }\n' },
      /walks the samples itself/,
    ],
    [
      'binning speaks HTTP',
      { 'packages/binning/src/a.ts': "throw new HttpError(400, 'bad-thread', 'no');\n" },
      /speaks HTTP \(HttpError\)/,
    ],
    [
      'format imports fastify',
      { 'packages/format/src/a.ts': importLine('type { FastifyRequest }', 'fastify') },
      /imports fastify; profile logic knows nothing of HTTP/,
    ],
  ];
  for (const [name, files, message] of cases) {
    const run = check(tree(name.replaceAll(' ', '-'), files));
    expect(run.status, name).toBe(1);
    expect(run.stderr, name).toMatch(message);
  }
  // What apps may do: call the packages' public entries, count their answers.
  const fine = check(
    tree('fine', {
      'apps/server/src/a.ts':
        importLine('{ ProfileColumns }', '@prof/binning') +
        importLine('{ readProfileFile }', '@prof/format/node') +
        'export const n = (doc) => doc.samples.length;\n',
      'apps/server/test/a.test.ts': 'export const t = (doc) => doc.samples.time[0];\n',
    }),
  );
  expect(fine.stderr).toBe('');
  expect(fine.status).toBe(0);
});
