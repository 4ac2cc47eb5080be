import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProfFormatError, readVmprofDetailed, type VmprofReadResult } from '../src/index';
import {
  fixtureBytes,
  namesByAddress,
  vmprofFixtures,
  vmprofNames,
  vmprofSample,
  vmprofSamplesSha256,
  type Fixture,
} from './vmprof-helpers';

interface ExpectedSamples {
  sample_count: number;
  thread_ids: number[];
  samples_sha256: string;
  samples: Record<string, unknown>[];
  samples_truncated?: { head: number; tail: number };
}
interface Expected extends Partial<ExpectedSamples> {
  reader: string;
  header: {
    version: number;
    word_size: number;
    addr_size: number;
    period_usec: number;
    mode_byte: number | null;
    interp: string | null;
    meta: Record<string, string> | null;
    start_time: string | null;
    end_time: string | null;
  };
  error?: string;
  partial?: { sample_count: number };
  low_level_reader?: ExpectedSamples;
}

const fixtures = vmprofFixtures();

/** Damaged files: what Prof must do instead of what vmprof did (see bad/README.md and the fresh MANIFEST). */
const DAMAGED: Record<string, { error?: string; warning?: string; offset?: number; samples?: number }> = {
  'vmprof/legacy-gperftools-2015-01-05.prof': { error: 'legacy-gperftools', offset: 40 },
  'vmprof/bad/empty.prof': { error: 'empty', offset: 0 },
  'vmprof/bad/random-4k.prof': { error: 'bad-header', offset: 0 },
  'vmprof/bad/big-endian-header.prof': { error: 'big-endian' },
  'vmprof/bad/absurd-meta-length.prof': { error: 'length-out-of-range', offset: 78 },
  'vmprof/bad/negative-meta-length.prof': { error: 'length-out-of-range', offset: 78 },
  'vmprof/bad/absurd-stack-depth.prof': { error: 'depth-out-of-range', offset: 133 },
  'vmprof/bad/flipped-marker.prof': { warning: 'unknown-marker', offset: 205, samples: 1 },
  'vmprof/bad/truncated-mid-stack.prof': { warning: 'truncated', offset: 286, samples: 2 },
  'vmprof/bad/truncated-in-name.prof': { warning: 'truncated', offset: 25295, samples: 243 },
  'vmprof/bad/truncated-gzip.prof.gz': { warning: 'truncated' },
  'vmprof-fresh/threads_memory_realtime_misaligned.prof': { warning: 'unknown-marker', offset: 22817, samples: 301 },
  'vmprof-fresh/truncated_utf8_name.prof': { warning: 'invalid-utf8', offset: 39903, samples: 498 },
  'vmprof/v6-cp311-killed-no-trailer.prof': { warning: 'no-trailer', offset: 28958, samples: 242 },
};

function read(f: Fixture): VmprofReadResult {
  return readVmprofDetailed(fixtureBytes(f.profile));
}

describe('vmprof fixtures agree with vmprof’s own reader', () => {
  it('finds the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });

  for (const f of fixtures) {
    it(f.name, () => {
      const expected = JSON.parse(readFileSync(f.expected, 'utf8')) as Expected;
      const damaged = DAMAGED[f.name];
      if (damaged?.error) {
        let caught: unknown;
        try {
          read(f);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(ProfFormatError);
        const e = caught as ProfFormatError;
        expect(e.code).toBe(damaged.error);
        if (damaged.offset !== undefined) expect(e.details.offset).toBe(damaged.offset);
        expect(e.message).toMatch(/at byte \d+/);
        return;
      }
      const result = read(f);
      const doc = result.document;
      if (damaged?.warning) {
        const w = doc.warnings.find((x) => x.code === damaged.warning);
        expect(w, JSON.stringify(doc.warnings)).toBeDefined();
        if (damaged.offset !== undefined) expect(w!.offset).toBe(damaged.offset);
        if (damaged.samples !== undefined) expect(doc.samples.length).toBe(damaged.samples);
      } else {
        expect(doc.warnings).toEqual([]);
      }

      // Header facts.
      const h = expected.header;
      const info = doc.meta.vmprof!;
      expect(info.version).toBe(h.version);
      expect(info.wordSize).toBe(h.word_size);
      expect(info.addrSize).toBe(h.addr_size);
      expect(info.modeByte).toBe(h.mode_byte);
      expect(doc.meta.periodUs).toBe(h.period_usec);
      expect(doc.meta.interpreter).toBe(h.interp);
      expect(info.meta).toEqual(h.meta ?? {});
      // The truth prints whole milliseconds; Prof keeps the microseconds as a fraction.
      const ms = (t: number | null) => (t === null ? null : Math.floor(t));
      expect(ms(doc.meta.startTime)).toBe(h.start_time === null ? null : Date.parse(h.start_time));
      if (!damaged) expect(ms(doc.meta.endTime)).toBe(h.end_time === null ? null : Date.parse(h.end_time));

      const truth = expected.samples ? (expected as ExpectedSamples) : expected.low_level_reader;
      if (!truth) {
        // vmprof's reader failed: Prof reads at least what vmprof had read before failing.
        expect(doc.samples.length).toBeGreaterThanOrEqual(expected.partial?.sample_count ?? 0);
        return;
      }
      expect(doc.samples.length).toBe(truth.sample_count);
      expect([...doc.threads.id].map(Number).sort((a, b) => a - b)).toEqual(truth.thread_ids);

      // Every sample, named by vmprof's rule, hashes to vmprof's samples_sha256.
      const names = vmprofNames(result);
      const withKinds = !expected.reader.includes('0.3.15');
      const view = (i: number) => {
        const sample = vmprofSample(doc, result, names, i, withKinds);
        // vmprof read a name cut by the end of the file that Prof drops with the whole record.
        if (f.name.endsWith('truncated-in-name.prof')) delete sample.stack;
        return sample;
      };
      const strip = (sample: Record<string, unknown>) => {
        if (!f.name.endsWith('truncated-in-name.prof')) return sample;
        const { stack: _stack, ...rest } = sample;
        return rest;
      };
      const head = truth.samples_truncated?.head ?? truth.samples.length;
      const tail = truth.samples_truncated?.tail ?? 0;
      for (let k = 0; k < truth.samples.length; k++) {
        const i = k < head ? k : doc.samples.length - tail + (k - head);
        expect(view(i), `sample ${i}`).toEqual(strip(truth.samples[k]));
      }
      if (!f.name.endsWith('truncated-in-name.prof')) {
        expect(vmprofSamplesSha256(doc, result, names, withKinds)).toBe(truth.samples_sha256);
      }

      // Prof's own names differ from vmprof's only for an address named more than once.
      const all = namesByAddress(result);
      let differing = 0;
      for (let frame = 0; frame < doc.frames.length; frame++) {
        const address = doc.strings[doc.frames.address[frame]];
        const ours = doc.strings[doc.frames.raw[frame]];
        const theirs = names.get(address) ?? '<unknown code>';
        if (ours !== theirs) {
          differing++;
          expect(all.get(address)?.has(ours), `${address}: ${ours} vs ${theirs}`).toBe(true);
          expect(all.get(address)!.size).toBeGreaterThan(1);
        }
      }
      if (f.name.endsWith('cpu_basic.prof')) expect(differing).toBe(1); // the address-reuse case of the MANIFEST
    });
  }
});
