import { writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listSpool, removeSpoolEntry, spoolSync } from '../src/spool/spool-dir';
import { tempDir } from './helpers';

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

describe('spool directory', () => {
  it('stores a profile with what is needed to send it later, and lists it back', () => {
    const d = tempDir('prof-spool-');
    dirs.push(d);
    const dir = join(d.path, 'nested', 'spool');
    const bytes = new Uint8Array([0x1f, 0x8b, 1, 2, 3]);
    const entry = spoolSync(dir, bytes, {
      server: 'http://x',
      project: 'p',
      name: 'f',
      tags: { a: 'b' },
      reason: 'down',
    });
    const { entries, broken } = listSpool(dir);
    expect(broken).toEqual([]);
    expect(entries.map((e) => e.id)).toEqual([entry.id]);
    expect(entries[0].meta).toMatchObject({
      server: 'http://x',
      project: 'p',
      name: 'f',
      tags: { a: 'b' },
      reason: 'down',
    });
    expect(new Uint8Array(readFileSync(entries[0].dataPath))).toEqual(bytes);
    expect(JSON.stringify(entries[0].meta)).not.toMatch(/token/i);
    removeSpoolEntry(entries[0]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ignores half-written entries and reports unreadable sidecars', () => {
    const d = tempDir('prof-spool-');
    dirs.push(d);
    spoolSync(d.path, new Uint8Array([1]), { server: 's', project: null, name: null, tags: {}, reason: 'r' });
    writeFileSync(join(d.path, '1700000000000-aaaaaaaaaaaa.msgpack.gz.tmp-1'), 'partial');
    writeFileSync(join(d.path, '1700000000001-bbbbbbbbbbbb.json'), '{not json');
    writeFileSync(join(d.path, 'random.json'), '{}');
    const { entries, broken } = listSpool(d.path);
    expect(entries).toHaveLength(1);
    expect(broken).toEqual([join(d.path, '1700000000001-bbbbbbbbbbbb.json')]);
  });

  it('lists nothing for a directory that does not exist', () => {
    expect(listSpool('/nonexistent/prof/spool')).toEqual({ entries: [], broken: [] });
  });
});
