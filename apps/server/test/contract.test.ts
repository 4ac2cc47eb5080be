// The HTTP contract: one token hook on every write route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type Running } from './helpers';

const TOKEN = 'contract-token';
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A concrete path for a route pattern: ids of the right shape, so only the token decides the answer. */
const concrete = (url: string) => url.replace(/:[a-z]+/gi, 'a'.repeat(24));

describe.each([false, true])('the token hook (anonymousSubmit %s)', (anonymousSubmit) => {
  let r: Running;
  beforeAll(async () => {
    r = await startServer({ token: TOKEN, anonymousSubmit });
  });
  afterAll(async () => r?.stop());

  it('answers 401 on every write route without the token, except the anonymous ones when allowed', async () => {
    const writes = r.server.routes.filter((route) => !READS.has(route.method));
    expect(writes.length).toBeGreaterThan(10);
    for (const route of writes) {
      const res = await fetch(`${r.url}${concrete(route.url)}`, { method: route.method, body: 'x' });
      const body = await json(res).catch(() => null);
      const expected = anonymousSubmit && route.config.anonymousSubmit ? 'let in' : 401;
      expect([route.method, route.url, res.status === 401 ? 401 : 'let in']).toEqual([
        route.method,
        route.url,
        expected,
      ]);
      if (res.status === 401) expect(body.error.code).toBe('unauthorized');
    }
  });
});
