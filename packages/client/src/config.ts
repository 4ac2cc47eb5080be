import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the server is when neither an option nor PROF_SERVER says. */
export const DEFAULT_SERVER = 'http://localhost:8080';

export interface ClientSettings {
  /** Base URL of the Prof server. Option, else `PROF_SERVER`, else `http://localhost:8080`. */
  server: string;
  /** Bearer token. Option, else `PROF_TOKEN`. */
  token: string | null;
  /** Directory for profiles that could not be sent. Option, else `PROF_SPOOL`, else `~/.prof/spool`. */
  spoolDir: string;
}

export function resolveServer(option: string | undefined, env = process.env): string {
  return (option || env.PROF_SERVER || DEFAULT_SERVER).replace(/\/+$/, '');
}

export function resolveToken(option: string | undefined, env = process.env): string | null {
  return option || env.PROF_TOKEN || null;
}

export function resolveSpoolDir(option: string | undefined, env = process.env): string {
  return option || env.PROF_SPOOL || join(homedir(), '.prof', 'spool');
}

export function resolveProject(option: string | undefined, env = process.env): string | null {
  return option || env.PROF_PROJECT || null;
}

/** `PROF_DISABLE` set to anything but '', '0' or 'false' turns profiling off whatever the code says. */
export function disabledByEnv(env = process.env): boolean {
  const v = env.PROF_DISABLE;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Parses `k=v` tag arguments; the value may itself contain '='. */
export function parseTag(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`tag "${text}" is not of the form key=value`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}
