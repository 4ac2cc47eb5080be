import { randomBytes } from 'node:crypto';

/** Lower-case base32 (RFC 4648 alphabet): URL-safe, case-insensitive-safe, no padding. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 24; // 120 random bits

/** Every id the store accepts; checked before an id ever becomes part of a path or query. */
export const PROFILE_ID_PATTERN = /^[a-z2-7]{24}$/;

export function newProfileId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ALPHABET[bytes[i] & 31];
  return id;
}

export function isProfileId(value: unknown): value is string {
  return typeof value === 'string' && PROFILE_ID_PATTERN.test(value);
}

export class InvalidIdError extends Error {
  override readonly name = 'InvalidIdError';
  readonly code = 'bad-id';
  constructor(value: unknown) {
    super(
      `invalid profile id ${JSON.stringify(String(value).slice(0, 64))}: expected ${ID_LENGTH} characters of [a-z2-7]`,
    );
  }
}

export function assertProfileId(value: unknown): asserts value is string {
  if (!isProfileId(value)) throw new InvalidIdError(value);
}
