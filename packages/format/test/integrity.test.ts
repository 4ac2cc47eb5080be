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
