import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newProfileId, isProfileId, tempPathFor } from '@prof/store';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
/** A runtime id is a profile id (the profile is stored under it): 12 random characters, then 12 of their MAC. */
const NONCE = 12;

/**
 * The ids `POST /api/runtime/new` hands out carry an HMAC of their first half, so an upload to an id
 * the server never issued is refused (the client cannot pick its own id) without keeping sessions:
 * an id issued before a restart, or by another instance with the same secret, is still accepted.
 */
export class RuntimeIds {
  constructor(private readonly secret: Buffer) {}

  issue(): string {
    const nonce = newProfileId().slice(0, NONCE);
    return nonce + this.mac(nonce);
  }

  /** True for ids this server (or one sharing its secret) issued. */
  verify(id: unknown): id is string {
    if (!isProfileId(id)) return false;
    const expected = Buffer.from(this.mac(id.slice(0, NONCE)));
    return timingSafeEqual(expected, Buffer.from(id.slice(NONCE)));
  }

  private mac(nonce: string): string {
    const digest = createHmac('sha256', this.secret).update(`prof-runtime-id:${nonce}`).digest();
    let text = '';
    for (let i = 0; i < NONCE; i++) text += ALPHABET[digest[i] & 31];
    return text;
  }
}

/**
 * The secret runtime ids are signed with: given (`--runtime-secret`), else derived from the token (so
 * instances sharing a token accept each other's ids), else a random one made once in
 * `<data>/runtime.secret` (kept across restarts).
 */
export async function runtimeSecret(options: {
  secret?: string | null;
  token: string | null;
  dataDir: string;
}): Promise<Buffer> {
  if (options.secret) return Buffer.from(options.secret);
  if (options.token) return createHmac('sha256', options.token).update('prof runtime id secret').digest();
  const path = join(options.dataDir, 'runtime.secret');
  const kept = await readFile(path, 'utf8').catch(() => '');
  if (/^[0-9a-f]{64}$/.test(kept.trim())) return Buffer.from(kept.trim(), 'hex');
  const made = randomBytes(32);
  // A shared store (PostgreSQL + S3) leaves the data directory to be made here.
  await mkdir(options.dataDir, { recursive: true });
  // Readable by the server's user only; written whole or not at all (a torn file is made again).
  await mkdir(options.dataDir, { recursive: true }); // with a shared store nothing else made it
  const temp = tempPathFor(path);
  await writeFile(temp, `${made.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temp, path);
  return made;
}
