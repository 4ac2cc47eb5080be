import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr, or nothing when stderr is not a terminal or the output is JSON. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** Decimal, like the sizes `prof convert` prints (62,646,335 bytes = 62.6 MB). */
const MB = 1_000_000;

/** `prof inspect` and `prof convert` show a bar from this file size on (smaller files are done at once). */
export const PROGRESS_MIN_BYTES = 8_000_000;

export function progressBar(label: string, file: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    {
      format: `${label.padEnd(8)} {bar} {percentage}% | {doneMB}/{totalMB} MB | {file}`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      const payload = { doneMB: (done / MB).toFixed(1), totalMB: (total / MB).toFixed(1), file };
      if (!started) {
        bar.start(Math.max(total, 1), done, payload);
        started = true;
        return;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
