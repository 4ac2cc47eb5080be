import { eachSample, type SampleGroups } from './sample-groups';
import { FrameKind, type ProfileDocument } from './schema';

// Frames that only start a program: Python's runpy and import machinery, vmprof's CLI, code fed
// through stdin or a string, PyPy's app_main, Node's module loader and bootstrap.
const LAUNCHER_FILE =
  /(^<frozen runpy>$|(^|[\\/])runpy\.py$|^<frozen importlib\._bootstrap(_external)?>$|(^|[\\/])vmprof[\\/](__main__|__init__|profiler|cli)\.py$|^<stdin>$|^<string>$|(^|[\\/])app_main\.py$|^node:internal[\\/]|^internal[\\/])/;

/** A frame of a program launcher (runpy, vmprof's CLI, importlib, PyPy's app_main, Node's loader) by its file. */
export function isLauncherFile(file: string): boolean {
  return LAUNCHER_FILE.test(file);
}

/** Python's threading machinery above a thread's own function (`_bootstrap`, `_bootstrap_inner`, `run`). */
const THREADING_FILE = /(^|[\\/])threading\.py$|^<frozen threading>$/;

function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut >= 0 ? path.slice(cut + 1) : path;
}

/**
 * Stack rows that are runner frames: launcher frames (and native frames among them, such as the
 * interpreter's own C entry) from the root down to the first frame of the program itself. vmprof's own tree view hides these
 * (`_run_module_as_main › _run_code › <module> › main › run_path › …` of `python -m vmprof`).
 */
export function runnerStackRows(doc: ProfileDocument): Uint8Array {
  const { stacks, frames, strings } = doc;
  const runner = new Uint8Array(stacks.length);
  for (let row = 0; row < stacks.length; row++) {
    const parent = stacks.parent[row];
    if (parent >= 0 && !runner[parent]) continue;
    const f = stacks.frame[row];
    const kind = frames.kind[f];
    const launcher = isLauncherFile(strings[frames.file[f]]);
    if (launcher || kind === FrameKind.Native) runner[row] = 1;
  }
  return runner;
}

/**
 * The script a vmprof profile ran: the file of the first `<module>` frame below the runner frames,
 * weighed by samples when several scripts appear (e.g. `/home/me/cpu_work.py`); null when none is found.
 */
export function scriptFile(doc: ProfileDocument, groups?: SampleGroups): string | null {
  const { stacks, frames, strings } = doc;
  const runner = runnerStackRows(doc);
  const scriptOf = new Int32Array(stacks.length).fill(-1);
  for (let row = 0; row < stacks.length; row++) {
    const parent = stacks.parent[row];
    if (runner[row]) continue;
    if (parent >= 0 && !runner[parent]) {
      scriptOf[row] = scriptOf[parent];
      continue;
    }
    const f = stacks.frame[row];
    const file = strings[frames.file[f]];
    if (strings[frames.name[f]] === '<module>' && file && frames.kind[f] !== FrameKind.Native) scriptOf[row] = f;
  }
  const weight = new Map<number, number>();
  eachSample(doc, groups, (s, _, count) => {
    if (s >= 0 && scriptOf[s] >= 0) weight.set(scriptOf[s], (weight.get(scriptOf[s]) ?? 0) + count);
  });
  let best = -1;
  for (const [frame, count] of weight) if (best < 0 || count > (weight.get(best) ?? 0)) best = frame;
  return best < 0 ? null : strings[frames.file[best]];
}

/** The file name of `scriptFile` (`cpu_work.py`), the name a run is listed under. */
export function scriptName(doc: ProfileDocument, groups?: SampleGroups): string | null {
  const file = scriptFile(doc, groups);
  return file === null ? null : baseName(file);
}

/**
 * A name for every thread that has none: its entry function, the first frame of its heaviest path
 * that is no runner, threading or native frame (`worker`, `main`), or `<module>` of the script.
 */
export function nameThreadsByEntry(doc: ProfileDocument, groups?: SampleGroups): void {
  const { stacks, frames, strings, threads } = doc;
  const runner = runnerStackRows(doc);
  const entryOf = new Int32Array(stacks.length).fill(-1);
  for (let row = 0; row < stacks.length; row++) {
    const parent = stacks.parent[row];
    const inherited = parent >= 0 ? entryOf[parent] : -1;
    if (inherited >= 0 || runner[row]) {
      entryOf[row] = inherited;
      continue;
    }
    const f = stacks.frame[row];
    const name = strings[frames.name[f]];
    const skip =
      frames.kind[f] === FrameKind.Native ||
      frames.kind[f] === FrameKind.Asm ||
      name === '<module>' ||
      THREADING_FILE.test(strings[frames.file[f]]);
    entryOf[row] = skip ? -1 : f;
  }
  const counts = threads.name.map(() => new Map<number, number>());
  eachSample(doc, groups, (s, thread, count) => {
    if (s < 0 || entryOf[s] < 0) return;
    const m = counts[thread];
    m.set(entryOf[s], (m.get(entryOf[s]) ?? 0) + count);
  });
  threads.name = threads.name.map((existing, t) => {
    if (existing) return existing;
    let best = -1;
    let bestCount = 0;
    for (const [f, c] of counts[t]) if (c > bestCount) [best, bestCount] = [f, c];
    return best < 0 ? null : strings[frames.name[best]];
  });
}

/**
 * A vmprof run is named after its script (`cpu_work.py`), never after vmprof's own `__main__.py` or
 * the top function; its argv gets the script back where `python -m vmprof` lost it (runpy restores
 * argv[0] before the client reads it), and unnamed threads are named after their entry function.
 */
export function nameVmprofRun(doc: ProfileDocument, groups?: SampleGroups): void {
  if (doc.meta.source !== 'vmprof') return;
  const script = scriptFile(doc, groups);
  if (script !== null) {
    if (doc.meta.name === null) doc.meta.name = scriptName(doc, groups);
    const argv = doc.meta.argv;
    if (argv?.length && VMPROF_MAIN.test(argv[0])) doc.meta.argv = [script, ...argv.slice(1)];
  }
  nameThreadsByEntry(doc, groups);
}
const VMPROF_MAIN = /(^|[\\/])vmprof[\\/]__main__\.py$/;
