/**
 * The one error type every reader and decoder throws for bad input. Codes are stable and listed
 * in docs/errors.md; `offset` is a byte offset in the (decompressed) input when it applies.
 */
export class ProfFormatError extends Error {
  override readonly name = 'ProfFormatError';
  constructor(
    /** Stable machine-readable code, e.g. `bad-header`, `unknown-marker`, `length-out-of-range`. */
    readonly code: string,
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
