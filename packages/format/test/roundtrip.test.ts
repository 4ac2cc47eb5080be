import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertIntegrity,
  decodeDocument,
  documentSummary,
  encodeDocument,
  gunzipDocument,
  gzipDocument,
  ProfFormatError,
  readProfileFile,
} from '../src/node';
import { allProfileFiles, fixturesRoot } from './codec-helpers';
import { expectSameDocument } from './codec-compare';
import { PYPY_WORKLOAD, recordWithPypy } from './pypy-profile';

// Every profile under fixtures/vmprof*: a fixture added later is covered without code changes.
describe.each(allProfileFiles().map((p) => [p.slice(fixturesRoot.length + 1), p]))(
  'round trip of %s',
  (_name, path) => {
    it('decode(encode(doc)) equals doc, gzipped or not', async () => {
      let doc: Awaited<ReturnType<typeof readProfileFile>>;
      try {
        doc = await readProfileFile(path);
      } catch (e) {
        // Files with nothing readable (fixtures/vmprof/bad) end in the typed error, nothing else.
        expect(e).toBeInstanceOf(ProfFormatError);
        return;
      }
      assertIntegrity(doc);
      const bytes = encodeDocument(doc);
      expectSameDocument(decodeDocument(bytes), doc);
      const gz = await gzipDocument(doc);
      expectSameDocument(await gunzipDocument(gz), doc);
      // The document is smaller than the profile for anything of size.
      if (doc.samples.length > 1000) expect(gz.length).toBeLessThan(bytes.length);
    });
  },
);

describe('a profile written now by Debian’s pypy3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prof-roundtrip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads, summarises and round-trips', async () => {
    const out = recordWithPypy(dir, 'job', 0.6);
    const doc = await readProfileFile(out);
    assertIntegrity(doc);
    const summary = documentSummary(doc);
    expect(summary.sampleCount).toBeGreaterThan(0);
    expect(summary.hasMemory).toBe(true);
    expect(summary.peakMemory).toBeGreaterThan(1024 * 1024);
    expect(summary.topFunction).toBe(PYPY_WORKLOAD.middle);
    expectSameDocument(await gunzipDocument(await gzipDocument(doc)), doc);
    expect(basename(out)).toBe('job.prof');
  });
});
