/** Record boundaries of an uncompressed vmprof file. */
export declare function scanVmprof(bytes: Uint8Array): {
  records: { marker: number; start: number; end: number }[];
  version: number;
  word: number;
};
/** Writes `out`: `source` (complete, uncompressed vmprof) with its stack records `times` times, duration × times. */
export declare function makeLongProfile(options: { source: string; times: number; out: string }): {
  bytes: number;
  samples: number;
  durationSec: number;
};
