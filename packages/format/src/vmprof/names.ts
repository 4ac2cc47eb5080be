import type { FrameSpec } from '../builder';
import { FrameKind } from '../schema';
import type { VmprofSymbolRecord } from './types';

/** Name shown by vmprof (and by Prof) for an id that no symbol record names. */
export const UNKNOWN_CODE = '<unknown code>';

export interface ParsedVmprofName {
  /** `py`, `n`, or '' when the string has no colon. */
  language: string;
  name: string;
  file: string;
  line: number;
}

// The first `:<digits>:` after the language separates the function from `line:file`. Function
// names may contain colons (`py:has:colon name:37:f.py`) and so may files (`c:\x.py`), so a plain
// split on every colon would cut both.
const LINE_AND_FILE = /:(\d+):/;

/** Splits `py:func:12:file.py` / `n:symbol:0:-` robustly (format doc §7.3). */
export function parseVmprofName(raw: string): ParsedVmprofName {
  const colon = raw.indexOf(':');
  if (colon < 0) return { language: '', name: raw, file: '', line: 0 };
  const language = raw.slice(0, colon);
  const rest = raw.slice(colon); // keep the colon so an empty function name (`py::9:f`) still matches
  const m = LINE_AND_FILE.exec(rest);
  if (!m) {
    // vmprof cut `:LINE:FILE` off a name longer than its 511-byte half: all we have is the function.
    return { language, name: rest.slice(1), file: '', line: 0 };
  }
  const name = m.index === 0 ? '' : rest.slice(1, m.index);
  let file = rest.slice(m.index + m[0].length);
  // vmprof writes `-` for a native symbol without a source file.
  if (language === 'n' && file === '-') file = '';
  const line = Number(m[1]);
  return { language, name, file, line: Number.isSafeInteger(line) ? line : 0 };
}

/**
 * A frame from a vmprof-style name alone, as the upload protocols carry them (`py:func:12:file.py`,
 * `n:symbol:0:-`, anything else kept whole as a Python frame's name), at `address` (hex).
 */
export function frameFromVmprofName(raw: string, address: string): FrameSpec {
  const parsed = parseVmprofName(raw);
  const kind = parsed.language === 'n' ? FrameKind.Native : FrameKind.Python;
  if (parsed.language !== 'py' && parsed.language !== 'n') return { name: raw, file: '', line: 0, kind, raw, address };
  return { name: parsed.name, file: parsed.file, line: parsed.line, kind, raw, address };
}

const GENERIC_NATIVE = 'n:<native symbol ';

/**
 * How much a record's name is worth for its id. vmprof's `disable()` writes a generic
 * `n:<native symbol 0x…>` twin for every id it saw, Python code included, so a real name must beat it.
 */
function nameRank(name: string): number {
  if (name.startsWith('py:')) return 2;
  if (name.startsWith(GENERIC_NATIVE)) return 0;
  return 1;
}

/**
 * Prof's naming rule, which differs from vmprof's "largest string wins": the best-ranked record
 * wins (`py:` > a real native symbol > the generic native twin) and, among equals, the last in file
 * order, because a later record describes the code object that lives at that address at the end of
 * the run (an address freed and reused by a new code object is named again).
 */
export function chooseNames(symbols: readonly VmprofSymbolRecord[]): Map<string, string> {
  const best = new Map<string, { rank: number; name: string }>();
  for (const s of symbols) {
    const rank = nameRank(s.name);
    const cur = best.get(s.address);
    if (!cur || rank >= cur.rank) best.set(s.address, { rank, name: s.name });
  }
  const out = new Map<string, string>();
  for (const [address, v] of best) out.set(address, v.name);
  return out;
}
