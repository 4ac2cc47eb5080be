// QuietTime: background work (the zoom rehearsal) waits for a moment without requests.
import { describe, expect, it } from 'vitest';
import { QuietTime } from '../src/quiet';

const turns = (n: number) => new Promise<void>((resolve) => setTimeout(resolve, n));

describe('QuietTime', () => {
  it('waits while a request is in flight, then for the quiet time after it ends', async () => {
    const quiet = new QuietTime(20);
    const end = quiet.begin();
    let waited = false;
    const wait = quiet.wait().then(() => (waited = true));
    // However long it lasts, a request in flight holds the work back.
    await turns(80);
    expect(waited).toBe(false);
    const endedAt = performance.now();
    end();
    end(); // a second 'close' changes nothing
    await wait;
    expect(performance.now() - endedAt).toBeGreaterThanOrEqual(19);
  });

  it('gives up (false) when no quiet moment comes in time', async () => {
    const quiet = new QuietTime(20);
    quiet.begin(); // never ends
    const startedAt = performance.now();
    expect(await quiet.wait(40)).toBe(false);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(39);
    expect(await new QuietTime(20).wait(40)).toBe(true);
  });

  it('a request that comes during the wait starts the quiet time again; with none, it resolves', async () => {
    const quiet = new QuietTime(30);
    expect(await quiet.wait()).toBe(true); // nothing ever came
    quiet.activity();
    const lastAt = performance.now();
    await turns(10);
    quiet.begin()(); // a short request, come and gone
    const goneAt = performance.now();
    expect(await quiet.wait()).toBe(true);
    expect(performance.now() - goneAt).toBeGreaterThanOrEqual(29);
    expect(performance.now() - lastAt).toBeGreaterThanOrEqual(35);
  });
});
