import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Interpreter {
  /** e.g. `cpython-3.12`, `pypy3` */
  label: string;
  command: string;
}

/** CPython versions the Python client must run on (pyenv builds on the test machines) plus Debian's pypy3. */
export const REQUIRED_CPYTHONS = ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13'];

function pyenvPython(version: string): string | null {
  const root = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
  const versions = join(root, 'versions');
  if (!existsSync(versions)) return null;
  const match = readdirSync(versions)
    .filter((v) => v === version || v.startsWith(`${version}.`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .at(-1);
  const command = match && join(versions, match, 'bin', 'python');
  return command && existsSync(command) ? command : null;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Every required interpreter, with `missing` naming those this machine lacks (the tests fail on them). */
export function findInterpreters(): { found: Interpreter[]; missing: string[] } {
  const found: Interpreter[] = [];
  const missing: string[] = [];
  for (const version of REQUIRED_CPYTHONS) {
    const command = pyenvPython(version);
    if (command) found.push({ label: `cpython-${version}`, command });
    else missing.push(`cpython-${version} (pyenv install ${version})`);
  }
  const pypy = onPath('pypy3');
  if (pypy) found.push({ label: 'pypy3', command: pypy });
  else missing.push('pypy3 (apt-get install pypy3)');
  return { found, missing };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Date.now() when the process exited. */
  exitedAt: number;
}

/** Runs a process without blocking the event loop (the server under test lives in this process). */
export function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} ran over ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitedAt: Date.now() });
    });
  });
}
