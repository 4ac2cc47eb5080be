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
/** `source` × `times` in the temporary folder, made once and kept; null when it would not fit (`spare` × its size free). */
export declare function longProfileFile(options: { source: string; times: number; spare?: number }): string | null;
