// Every code @prof/format throws is answered with a status of the catalogue and documented: the
// server maps them in one place (http-error.ts FORMAT_CODES), docs/errors.md lists each with it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '@prof/api';
import { FORMAT_ERROR_CODES } from '@prof/format';
import { describe, expect, it } from 'vitest';
import { FORMAT_CODES } from '../src/http-error';

const docs = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');

describe('format error codes', () => {
  it('are each mapped to a 4xx of the catalogue and listed with it in docs/errors.md', () => {
    expect(FORMAT_CODES).toEqual(FORMAT_ERROR_CODES);
    expect(FORMAT_ERROR_CODES.length).toBeGreaterThan(20);
    for (const code of FORMAT_ERROR_CODES) {
      const status: number = ERRORS[code];
      expect([code, status >= 400 && status < 500]).toEqual([code, true]);
      expect(docs, code).toMatch(new RegExp(`^\\|\\s*${status}\\s*\\|\\s*\`${code}\`\\s*\\|`, 'm'));
    }
  });
});
