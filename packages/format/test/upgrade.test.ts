import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import {
  encodeDocument,
  FORMAT_PRODUCER,
  FORMAT_VERSION,
  gunzipDocument,
  readProfileFile,
  SCHEMA_VERSION,
  UPGRADABLE_VERSIONS,
  decodeDocument,
} from '../src/node';

const V1 = join(fixturesDir, 'documents/v1-derived-v3-memory.msgpack.gz');
const plain = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

describe('schema versions', () => {
  it('has an upgrader from every older version', () => {
    expect(UPGRADABLE_VERSIONS.sort()).toEqual(Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 1));
  });

  it('stamps this package and its version (the one in package.json) on what it builds', async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8'));
    expect(FORMAT_VERSION).toBe(pkg.version);
    const doc = await readProfileFile(join(fixturesDir, 'vmprof/derived-v3-memory.prof'));
    expect(doc.version).toBe(SCHEMA_VERSION);
    expect(doc.producer).toEqual(FORMAT_PRODUCER);
    expect(decodeDocument(encodeDocument(doc)).producer).toEqual({ name: '@prof/format', version: pkg.version });
  });

  it('reads a stored version-1 document (no samples.heap key, no producer) as the current version', async () => {
    const bytes = readFileSync(V1);
    const doc = await gunzipDocument(bytes);
    expect(doc.version).toBe(SCHEMA_VERSION);
    expect(doc.producer).toBeNull();
    expect(doc.samples.heap).toBeNull();
    expect(doc.meta.name).toBe('derived-v3-memory (schema 1)');
    // The same samples as the profile it was made from.
    const fresh = await readProfileFile(join(fixturesDir, 'vmprof/derived-v3-memory.prof'));
    expect(doc.samples.length).toBe(fresh.samples.length);
    expect(doc.samples.memory).toEqual(fresh.samples.memory);
    expect(doc.samples.time).toEqual(fresh.samples.time);
    expect({ ...doc.frames }).toEqual({ ...fresh.frames });
    // Written again, it is a current document.
    const wire = unpackr.unpack(encodeDocument(doc)) as Record<string, unknown>;
    expect(wire.version).toBe(SCHEMA_VERSION);
    expect((wire.samples as Record<string, unknown>).heap).toBeNull();
  });

  it('still upgrades a version-1 document that did carry samples.heap', async () => {
    const doc = await readProfileFile(join(fixturesDir, 'vmprof/derived-v3-memory.prof'));
    const wire = unpackr.unpack(encodeDocument(doc)) as Record<string, unknown>;
    wire.version = 1;
    delete wire.producer;
    const back = decodeDocument(plain.pack(wire));
    expect(back.version).toBe(SCHEMA_VERSION);
    expect(back.producer).toBeNull();
    expect(back.samples.memory).toEqual(doc.samples.memory);
  });
});
