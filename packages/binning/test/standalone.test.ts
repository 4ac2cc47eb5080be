import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');

it('library source imports only its own modules (browser-safe, usable alone)', () => {
  const files = (readdirSync(resolve(pkg, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(5);
  for (const f of files) {
    const text = readFileSync(resolve(pkg, 'src', f), 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    // Its own modules only: a sibling, a module of a subfolder (summaries/), or from there one level up.
    for (const s of specifiers) expect(s, `${f} imports ${s}`).toMatch(/^\.\.?\/(\w+\/)?[\w.]+\.js$/);
  }
  const manifest = JSON.parse(readFileSync(resolve(pkg, 'package.json'), 'utf8'));
  expect(manifest.dependencies ?? {}).toEqual({});
});
