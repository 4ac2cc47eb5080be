/**
 * Upgraders of the document's wire form, one per schema version (the way Firefox Profiler's
 * processed-profile-versioning works): `UPGRADERS[v]` turns a version-v document into version v+1,
 * in place, before its columns are decoded. A stored document is never rewritten: it is upgraded
 * each time it is read, so every reader sees `SCHEMA_VERSION` only.
 */
import { ProfFormatError } from './errors';
import { isPlainObject } from './plain-values';
import { SCHEMA_VERSION } from './schema';

type Wire = Record<string, unknown>;

const UPGRADERS: Record<number, (wire: Wire) => void> = {
  // 1 → 2: `samples.heap` became a column of every document (it had been added without a bump, so
  // older version-1 documents lack the key), and the producer is stamped (unknown for old ones).
  1(wire) {
    if (isPlainObject(wire.samples) && !('heap' in wire.samples)) wire.samples.heap = null;
    wire.producer = null;
  },
};

/**
 * Brings a decoded msgpack map of any older schema version up to `SCHEMA_VERSION`. Throws
 * `schema` for a version that is not a positive integer, `too-new` for one past `SCHEMA_VERSION`.
 */
export function upgradeWire(wire: Wire): void {
  const version = wire.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ProfFormatError('schema', `bad schema version ${String(version)}`, { record: 'version' });
  }
  if (version > SCHEMA_VERSION) {
    throw new ProfFormatError(
      'too-new',
      `document has schema version ${version}, this @prof/format reads up to ${SCHEMA_VERSION}; upgrade @prof/format`,
      { record: 'version', expected: `<= ${SCHEMA_VERSION}` },
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    const upgrade = UPGRADERS[v];
    if (!upgrade) throw new Error(`no upgrader from schema version ${v}`);
    upgrade(wire);
    wire.version = v + 1;
  }
}

/** The schema versions an upgrader exists for (a test checks there is one per older version). */
export const UPGRADABLE_VERSIONS = Object.keys(UPGRADERS).map(Number);
