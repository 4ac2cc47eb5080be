import { compareCodePoints } from './compat-json';
import { HashWriter, type IncrementalHash } from './compat-sha256';
import type { VmprofSymbolRecord } from './types';

/** What vmprof shows for an id without a name record (`Stats._get_name`). */
export const VMPROF_UNKNOWN_CODE = '<unknown code>';

/** `0x7f21cf2e7860` / `-0x39` as an exact signed integer (ids above 2^53 occur in 2015 files). */
export function parseSignedHex(hex: string): bigint {
  return hex.startsWith('-') ? -BigInt(hex.slice(1)) : BigInt(hex);
}

/** True for entries vmprof's tree takes for line numbers (`addr <= 0`, format doc §7.4). */
export function isLineLikeAddress(hex: string): boolean {
  return hex.startsWith('-') || /^0x0+$/.test(hex);
}

/**
 * vmprof's id → name table: all `0x02`/`0x08` records as `(id, name)` pairs, sorted, then turned
 * into a dict, so for an id named several times the name that sorts last (by code point) wins
 * (format doc §7.2). Keys are the hex strings the reader writes for both records and frames.
 */
export function vmprofNameTable(symbols: readonly VmprofSymbolRecord[]): Map<string, string> {
  const table = new Map<string, string>();
  for (const s of symbols) {
    const cur = table.get(s.address);
    if (cur === undefined || compareCodePoints(s.name, cur) > 0) table.set(s.address, s.name);
  }
  return table;
}

/** The table as `[hex id, name]` sorted by numeric id, as the expected JSON lists `symbols`. */
export function sortedSymbols(table: Map<string, string>): [string, string][] {
  const rows = [...table].map(([hex, name]) => ({ id: parseSignedHex(hex), hex, name }));
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map((r) => [r.hex, r.name]);
}

/** SHA-256 over `hexid<TAB>name\n` lines in id order (`symbols_sha256`). */
export function symbolsSha256(sorted: readonly [string, string][], hash: IncrementalHash): string {
  const w = new HashWriter(hash);
  for (const [hex, name] of sorted) w.text(`${hex}\t${name}\n`);
  return w.digest();
}
