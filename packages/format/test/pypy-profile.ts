// A real vmprof profile written during the test by Debian's pypy3 (`_vmprof` is built in).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Python names of the workload's functions: `prof_middle` calls `prof_leaf` and keeps 1 MiB per round. */
export const PYPY_WORKLOAD = { leaf: 'prof_leaf', middle: 'prof_middle' } as const;

/**
 * Runs a small allocating workload under `_vmprof` in memory mode for `seconds` and returns the
 * path of the `.prof` it wrote in `dir`.
 */
export function recordWithPypy(dir: string, name: string, seconds: number): string {
  const script = join(dir, `${name}.py`);
  const out = join(dir, `${name}.prof`);
  writeFileSync(
    script,
    [
      'import _vmprof, os, sys, time',
      'def prof_leaf(n):',
      '    s = 0',
      '    for i in range(n):',
      '        s += i * i % 7',
      '    return s',
      'def prof_middle(rounds):',
      '    keep = []',
      '    t = 0',
      '    for r in range(rounds):',
      '        keep.append(bytearray(1 << 20))',
      '        t += prof_leaf(20000)',
      '    return t',
      'fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)',
      '_vmprof.enable(fd, 0.001, True, False, False, False)  # fileno, period, memory, lines, native, real_time',
      `end = time.time() + ${seconds}`,
      'while time.time() < end:',
      '    prof_middle(40)',
      '_vmprof.disable()',
      'os.close(fd)',
    ].join('\n'),
  );
  execFileSync('pypy3', [script, out], { stdio: 'pipe', timeout: 60_000 });
  return out;
}
