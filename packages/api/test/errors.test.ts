import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/index';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');

/** `code → status` of the table under "## HTTP error answers" in docs/errors.md. */
function documented(): Map<string, number> {
  const section = doc.slice(doc.indexOf('## HTTP error answers'));
  const table = section.slice(0, section.indexOf('\n## ', 1) === -1 ? undefined : section.indexOf('\n## ', 1));
  const rows = new Map<string, number>();
  for (const line of table.split('\n')) {
    const m = /^\|\s*(\d{3})\s*\|\s*`([^`]+)`\s*\|/.exec(line);
    if (!m) continue;
    expect(rows.has(m[2]), `${m[2]} is listed twice`).toBe(false);
    rows.set(m[2], Number(m[1]));
  }
  return rows;
}

describe('the error catalogue', () => {
  it('docs/errors.md lists every code with its status, and no code that does not exist', () => {
    const docs = documented();
    expect(docs.size).toBeGreaterThan(10);
    const missing = Object.keys(ERRORS).filter((code) => !docs.has(code));
    const unknown = [...docs.keys()].filter((code) => !Object.hasOwn(ERRORS, code));
    expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
    for (const [code, status] of docs) expect([code, status]).toEqual([code, ERRORS[code as keyof typeof ERRORS]]);
  });

  it('gives every code a 4xx or 5xx status', () => {
    for (const [code, status] of Object.entries(ERRORS))
      expect([code, status >= 400 && status < 600]).toEqual([code, true]);
  });
});
