import type { ProfileFields } from '../src/index';

/** An index row's fields for tests: a 10 s cpython run of project etl, with `overrides` on top. */
export function fields(overrides: Partial<ProfileFields> = {}): ProfileFields {
  return {
    project: 'etl',
    name: 'main',
    tags: {},
    interpreter: 'cpython',
    host: 'box',
    start: 1_700_000_000_000,
    end: 1_700_000_010_000,
    durationMs: 10_000,
    sampleCount: 100,
    peakMemory: 1024,
    hasMemory: true,
    threads: 1,
    ...overrides,
  };
}
