// Shared by codec/node/roundtrip/pack tests: fixture discovery and small hand-built documents.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentBuilder, emptyMeta, FrameKind, type ProfileDocument } from '../src/index';
import { fixturesRoot, vmprofFixtureFiles } from './vmprof-helpers';

export { fixturesRoot, repoRoot } from './vmprof-helpers';

/** Every profile file (`.prof`, `.prof.gz`, `.tsprof`) under `fixtures/vmprof*`, bad ones included. */
export function allProfileFiles(): string[] {
  return vmprofFixtureFiles((entry) => /\.(prof|prof\.gz|tsprof)$/.test(entry));
}

export function fixture(rel: string): string {
  const p = join(fixturesRoot, rel);
  if (!existsSync(p)) throw new Error(`fixture missing: ${p}`);
  return p;
}

/** A small document with two threads, memory (one sample without), weights and odd floats. */
export function handBuiltDocument(): ProfileDocument {
  const b = new DocumentBuilder();
  const main = b.frame('main', () => ({
    name: 'main',
    file: 'app.py',
    line: 1,
    kind: FrameKind.Python,
    raw: 'py:main:1:app.py',
    address: '0x10',
  }));
  const work = b.frame('work', () => ({
    name: 'work',
    file: 'app.py',
    line: 9,
    kind: FrameKind.Python,
    raw: 'py:work:9:app.py',
    address: '0x20',
  }));
  const c = b.frame('c', () => ({
    name: 'memcpy',
    file: '',
    line: 0,
    kind: FrameKind.Native,
    raw: 'n:memcpy:0:-',
    address: '0x31',
  }));
  const s1 = b.stack(-1, main);
  const s2 = b.stack(s1, work, 12);
  const s3 = b.stack(s2, c);
  const t0 = b.thread('140000000001', 'MainThread');
  const t1 = b.thread('140000000002', null);
  // Times in order (assertIntegrity requires it), edge values kept: a subnormal-adjacent time, -0, MIN_VALUE.
  b.sample(s1, 0, t0);
  b.sample(-1, 1e-300, t1, 7, -0);
  b.sample(s2, 0.1, t0, 1024 * 4096, 1);
  b.sample(s3, 0.30000000000000004, t1, 2048 * 4096, 2.5);
  b.sample(s3, Math.PI, t0, 2 ** 40, Number.MIN_VALUE);
  const meta = emptyMeta('vmprof');
  Object.assign(meta, {
    project: 'demo',
    name: 'main',
    tags: { env: 'test', ünï: '<b>&' },
    interpreter: 'cpython',
    startTime: 1764091672911.433,
    endTime: 1764091680959.172,
    zone: 'UTC',
    periodUs: 990,
    argv: ['python', '-m', 'vmprof', 'app.py'],
    host: 'box',
  });
  return b.finish({
    meta,
    timeEstimated: true,
    timeSource: 'spread-start-end',
    warnings: [{ code: 'truncated', message: 'cut', offset: 12 }],
  });
}
