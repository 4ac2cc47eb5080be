/**
 * When the server has a moment without requests, for work no one waits for (a rehearsal of the zooms
 * after a profile's first view): each step of it waits here first, so a request never queues behind
 * more than one step. A busy server simply never gets to it.
 */
export class QuietTime {
  private last = 0;
  private inFlight = 0;

  /** `quietMs`: how long no request must have been in flight. */
  constructor(private readonly quietMs: number) {}

  /** A request came; call what it returns when it ends (answered or dropped), once. */
  begin(): () => void {
    this.inFlight++;
    this.last = performance.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      this.last = performance.now();
    };
  }

  /** A request that is not waited for in flight (an upload may last minutes): its arrival only. */
  activity(): void {
    this.last = performance.now();
  }

  /**
   * Resolves true once no request has been in flight for `quietMs`, or false when that has not happened
   * within `withinMs` (work held back that long on a busy server is dropped, not kept waiting for good).
   * Its timers never keep the process alive.
   */
  async wait(withinMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const deadline = performance.now() + withinMs;
    for (;;) {
      const now = performance.now();
      const left = this.inFlight > 0 ? this.quietMs : this.last + this.quietMs - now;
      if (left <= 0) return true;
      if (now >= deadline) return false;
      await new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(Math.min(left, deadline - now))).unref());
    }
  }
}
