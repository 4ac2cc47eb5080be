import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr, or nothing when stderr is not a terminal or the output is JSON. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const MB = 1024 * 1024;

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
