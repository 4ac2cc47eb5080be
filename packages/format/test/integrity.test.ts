import { describe, expect, it } from 'vitest';
import { assertIntegrity, ProfFormatError, type ProfileDocument } from '../src/index';
import { handBuiltDocument } from './codec-helpers';

/** Runs `assertIntegrity` on a broken copy and returns the error's message (it must be `integrity`). */
function brokenBy(breakIt: (doc: ProfileDocument) => void): string {
  const doc = handBuiltDocument();
  breakIt(doc);
  try {
    assertIntegrity(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfFormatError);
    expect((e as ProfFormatError).code).toBe('integrity');
    return (e as ProfFormatError).message;
  }
  throw new Error('assertIntegrity accepted a broken document');
}

describe('assertIntegrity', () => {
  it('accepts a sound document', () => {
    expect(() => assertIntegrity(handBuiltDocument())).not.toThrow();
  });

  it.each([
    ['frames.name[1]', (d: ProfileDocument) => (d.frames.name[1] = d.strings.length)],
    ['frames.file[0]', (d: ProfileDocument) => (d.frames.file[0] = 10_000)],
    ['frames.raw[2]', (d: ProfileDocument) => (d.frames.raw[2] = d.strings.length + 5)],
    ['frames.address[0]', (d: ProfileDocument) => (d.frames.address[0] = 4_000_000_000)],
    ['frames.kind[2]', (d: ProfileDocument) => (d.frames.kind[2] = 9)],
    ['stacks.parent[1]', (d: ProfileDocument) => (d.stacks.parent[1] = 1)], // its own row
    ['stacks.parent[0]', (d: ProfileDocument) => (d.stacks.parent[0] = 2)], // a later row
    ['stacks.parent[2]', (d: ProfileDocument) => (d.stacks.parent[2] = -2)],
    ['stacks.frame[1]', (d: ProfileDocument) => (d.stacks.frame[1] = d.frames.length)],
    ['samples.stack[4]', (d: ProfileDocument) => (d.samples.stack[4] = d.stacks.length)],
    ['samples.stack[0]', (d: ProfileDocument) => (d.samples.stack[0] = -2)],
    ['samples.thread[2]', (d: ProfileDocument) => (d.samples.thread[2] = 2)],
  ])('names %s when that index is out of range', (where, breakIt) => {
    expect(brokenBy(breakIt)).toContain(where);
  });

  it('catches columns whose length differs from the table length', () => {
    expect(brokenBy((d) => (d.samples.time = d.samples.time.subarray(1)))).toContain('samples.time');
    expect(brokenBy((d) => (d.samples.memory = new Float64Array(1)))).toContain('samples.memory');
    expect(brokenBy((d) => (d.frames.length = 2))).toContain('frames.');
    expect(brokenBy((d) => d.threads.id.pop())).toContain('threads.id');
  });

  it('catches columns of the wrong type', () => {
    expect(brokenBy((d) => ((d.stacks as { parent: unknown }).parent = Array.from(d.stacks.parent)))).toContain(
      'stacks.parent',
    );
    expect(brokenBy((d) => ((d.samples as { stack: unknown }).stack = new Uint32Array(d.samples.length)))).toContain(
      'samples.stack',
    );
    expect(brokenBy((d) => ((d.strings as unknown[])[1] = 7))).toContain('strings[1]');
  });

  it('catches bad metadata and warnings', () => {
    expect(brokenBy((d) => ((d.meta as { startTime: unknown }).startTime = 'yesterday'))).toContain('meta.startTime');
    expect(brokenBy((d) => ((d.meta.tags as Record<string, unknown>).n = 1))).toContain('meta.tags');
    expect(brokenBy((d) => ((d.samples as { timeSource: string }).timeSource = 'guess'))).toContain(
      'samples.timeSource',
    );
    expect(brokenBy((d) => d.warnings.push({ code: 1 } as never))).toContain('warnings[1]');
  });
});

/** Runs `assertIntegrity` on a poisoned copy and returns the error (it must be `bad-value`). */
function poisonedBy(poison: (doc: ProfileDocument) => void): string {
  const doc = handBuiltDocument();
  poison(doc);
  try {
    assertIntegrity(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfFormatError);
    expect((e as ProfFormatError).code).toBe('bad-value');
    return (e as ProfFormatError).message;
  }
  throw new Error('assertIntegrity accepted a poisoned document');
}

describe('assertIntegrity: values no view can use', () => {
  it.each([
    ['samples.time[2]: NaN is not a finite number', (d: ProfileDocument) => (d.samples.time[2] = Number.NaN)],
    ['samples.time[3]: Infinity is not a finite', (d: ProfileDocument) => (d.samples.time[3] = Infinity)],
    ['samples.time[0]: -Infinity', (d: ProfileDocument) => (d.samples.time[0] = -Infinity)],
    ['samples.time[1]: -1 is before the previous', (d: ProfileDocument) => (d.samples.time[1] = -1)],
    ['samples.time[1]', (d: ProfileDocument) => d.samples.time.reverse()],
    ['samples.memory[2]: 1.7e+308 is out of range', (d: ProfileDocument) => (d.samples.memory![2] = 1.7e308)],
    ['samples.memory[3]: -5 is out of range', (d: ProfileDocument) => (d.samples.memory![3] = -5)],
    ['samples.memory[4]: Infinity', (d: ProfileDocument) => (d.samples.memory![4] = Infinity)],
    ['samples.weight[2]: NaN', (d: ProfileDocument) => (d.samples.weight![2] = Number.NaN)],
    ['samples.weight[4]: -1 is out of range', (d: ProfileDocument) => (d.samples.weight![4] = -1)],
    ['meta.startTime: 1e+300 is no date', (d: ProfileDocument) => (d.meta.startTime = 1e300)],
  ])('names %s', (where, poison) => {
    expect(poisonedBy(poison)).toContain(where);
  });

  it('allows NaN memory (a reading not taken), equal times, and 2^53 - 1', () => {
    const doc = handBuiltDocument();
    doc.samples.memory![1] = Number.NaN;
    doc.samples.time[1] = doc.samples.time[0];
    doc.samples.memory![2] = 2 ** 53 - 1;
    expect(() => assertIntegrity(doc)).not.toThrow();
  });
});
