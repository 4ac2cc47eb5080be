/**
 * Every code a reader throws: a closed list, so the server maps each to its HTTP status in one place
 * (apps/server/src/http-error.ts) and a test keeps it in docs/errors.md.
 */
export const FORMAT_ERROR_CODES = [
  'unknown-format',
  'empty',
  'gzipped',
  'bad-gzip',
  'bad-msgpack',
  'bad-magic',
  'schema',
  'integrity',
  'bad-header',
  'big-endian',
  'legacy-gperftools',
  'truncated',
  'unknown-marker',
  'length-out-of-range',
  'depth-out-of-range',
  'odd-depth',
  'bad-count',
  'unknown-pypy-kind',
  'unsupported-version',
  'duplicate-header',
  'late-header',
  'not-vmprof',
  'bad-cpuprofile',
  'bad-speedscope',
  'bad-folded',
  'bad-austin',
  'bad-json',
  'bad-tree',
  'bad-submit',
  'too-large',
  'too-new',
  'bad-value',
] as const;
export type FormatErrorCode = (typeof FORMAT_ERROR_CODES)[number];

/**
 * The one error type every reader and decoder throws for bad input. Codes are stable and listed
 * in docs/errors.md; `offset` is a byte offset in the (decompressed) input when it applies.
 */
export class ProfFormatError extends Error {
  override readonly name = 'ProfFormatError';
  constructor(
    /** Stable machine-readable code, e.g. `bad-header`, `unknown-marker`, `length-out-of-range`. */
    readonly code: FormatErrorCode,
    message: string,
    readonly details: {
      /** Byte offset where the problem was found. */
      offset?: number;
      /** Record or field being read, e.g. `stack record (0x01)`, `meta key length`. */
      record?: string;
      /** What was expected there. */
      expected?: string;
    } = {},
  ) {
    super(
      message +
        (details.offset !== undefined ? ` at byte ${details.offset}` : '') +
        (details.record ? ` in ${details.record}` : '') +
        (details.expected ? ` (expected ${details.expected})` : ''),
    );
  }

  get offset(): number | undefined {
    return this.details.offset;
  }
}

export function isProfFormatError(e: unknown): e is ProfFormatError {
  return e instanceof ProfFormatError;
}
