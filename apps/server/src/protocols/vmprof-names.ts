import { FrameKind, parseVmprofName, type FrameSpec } from '@prof/format';

/** A frame spec from a vmprof-style name (`py:func:12:file.py`, `n:symbol:0:-`, anything else). */
export function frameFromVmprofName(raw: string, address: string): FrameSpec {
  const parsed = parseVmprofName(raw);
  const kind = parsed.language === 'n' ? FrameKind.Native : FrameKind.Python;
  if (parsed.language !== 'py' && parsed.language !== 'n') return { name: raw, file: '', line: 0, kind, raw, address };
  return { name: parsed.name, file: parsed.file, line: parsed.line, kind, raw, address };
}

export function hexAddress(id: number): string {
  return id < 0 ? `-0x${(-id).toString(16)}` : `0x${id.toString(16)}`;
}
