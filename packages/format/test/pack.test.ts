// @prof/format as a user gets it: `pnpm pack`, `npm install` of the tarball outside the workspace,
// plain Node ESM through the public entries.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectPublishable, packedInstall } from '../../../scripts/pack-install';
import { fixture } from './codec-helpers';

describe('@prof/format, packed and installed with npm', () => {
  const scratch = packedInstall(['format']);

  it('is publishable as it is', () => {
    expectPublishable(scratch(), '@prof/format');
  });

  it('reads a fixture and converts it to .msgpack.gz; the browser entry decodes it', () => {
    const run = scratch().run(`
      import { readFileSync } from 'node:fs';
      import { readProfileFile, gzipDocument } from '@prof/format/node';
      import { decodeDocumentGzip, documentSummary, assertIntegrity } from '@prof/format';
      const doc = await readProfileFile(${JSON.stringify(fixture('vmprof/bad/truncated-gzip.prof.gz'))});
      assertIntegrity(doc);
      const gz = await gzipDocument(doc);
      const back = await decodeDocumentGzip(gz);
      const s = documentSummary(back);
      console.log(JSON.stringify({ version: back.meta.vmprof.version, samples: s.sampleCount, peak: s.peakMemory, gzip: [gz[0], gz[1]], warnings: back.warnings.map((w) => w.code + '@' + w.offset) }));
    `);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      version: 6,
      samples: 162,
      peak: expect.any(Number),
      gzip: [0x1f, 0x8b],
      warnings: ['truncated@15862', 'truncated-gzip@15877'],
    });
  });

  it('the README opens with an example that runs as written', () => {
    const run = scratch().runReadmeExample('@prof/format', [fixture('vmprof/v6-cp311-memory.prof')]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^profile: 243 samples over [\d.]+ s, peak \d+ bytes$/m);
    expect(run.stdout).toMatch(/^\d+ bytes; 243 samples decoded$/m);
  });

  it('the browser entry and everything it imports use no Node built-ins', () => {
    const dist = join(scratch().dir, 'node_modules/@prof/format/dist');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      const imports = [
        ...source.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1] ?? m[2]);
      for (const spec of imports) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(
          /^node:|^(fs|path|zlib|crypto|stream|os|buffer|util|child_process)$/,
        );
        if (spec.startsWith('.')) visit(join(dirname(file), spec));
      }
    };
    visit(join(dist, 'index.js'));
    expect(seen.size).toBeGreaterThan(1); // the entry re-exports a shared chunk
  });
});
