import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The built server's entry: tests that measure the server process run it, not the sources. */
export const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  /** Peak resident set since the last `resetPeak` (VmHWM), bytes. */
  peakRss(): Promise<number>;
  /** Sets the peak back to the current resident set (writes 5 to /proc/<pid>/clear_refs). */
  resetPeak(): Promise<void>;
}

/** `prof-server` (built) in its own process on a free port; resolves once it listens. */
export function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: build @prof/server first (node scripts/pnpm.mjs -r run build)`);
  const proc = spawn(process.execPath, [cli, '--port', '0', '--no-demos', ...args], {
    // The server as deployed: its workers at their default nice, whatever the test command set.
    env: { ...process.env, PROF_TOKEN: '', PROF_MAX_INFLATED: '', PROF_WORKER_NICE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const collect = (d: Buffer) => {
      out += d;
      // the whole line: a chunk cut inside the port number would name another port
      const m = /Prof server listening on (http:\/\/\S+)\n/.exec(out);
      if (m)
        resolve({
          proc,
          url: m[1],
          output: () => out,
          async peakRss() {
            const kb = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${proc.pid}/status`, 'utf8'));
            if (!kb) throw new Error('no VmHWM in /proc/<pid>/status');
            return Number(kb[1]) * 1024;
          },
          async resetPeak() {
            await writeFile(`/proc/${proc.pid}/clear_refs`, '5');
          },
        });
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect); // drained too: a full stderr pipe would block the server
    proc.on('exit', (code, signal) => reject(new Error(`prof-server exited ${code ?? signal}: ${out}`)));
  });
}
