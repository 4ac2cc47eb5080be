// A process's own peak RSS. `process.resourceUsage().maxRSS` is not it on Linux: the kernel keeps the
// high-water mark across execve, so a child started by a process holding 4 GB reported 4 GB (bench:long's
// ×270 convert, whose parent had just written the 16.9 GB .prof). /proc's VmHWM belongs to the new image.
import { readFileSync } from 'node:fs';

/** Peak resident set of this process, in bytes (VmHWM where /proc has it, else maxRSS). */
export function peakRssBytes() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}
