// The HTTP contract: /api/openapi.json (valid OpenAPI 3, every route in it), one token hook on every write route.
import { Validator } from '@seriousme/openapi-schema-validator';
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

describe('GET /api/openapi.json', () => {
  let r: Running;
  beforeAll(async () => {
    r = await startServer();
  });
  afterAll(async () => r?.stop());

  it('is a valid OpenAPI 3 document covering every registered route', async () => {
    const res = await fetch(`${r.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>))
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    // HEAD routes are Fastify's copies of GET ones; `/*` is the web app's static files (@fastify/static hides it).
    const routes = r.server.routes
      .filter((route) => route.method !== 'HEAD' && route.url !== '/*')
      .map((route) => `${route.method} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    expect(routes.length).toBeGreaterThan(25);
    expect(routes.filter((route) => !documented.has(route))).toEqual([]);
  });

  it('maps a validation error to our 400 naming the field', async () => {
    const id = 'a'.repeat(24);
    const cases: [string, string, RegExp][] = [
      [`/api/profiles/${id}/memory?bins=abc`, 'bad-query', /^query parameter bins="abc" is not a finite number$/],
      [`/api/profiles/${id}/memory?series=gc`, 'bad-query', /^series="gc": expected rss or heap$/],
      [`/api/profiles?limit=5000`, 'bad-query', /^query parameter limit=5000 must be an integer from 0 to 1000$/],
      [`/api/profiles/nope`, 'bad-id', /^invalid profile id "nope"/],
    ];
    for (const [path, code, message] of cases) {
      const res = await fetch(`${r.url}${path}`);
      const body = await json(res);
      expect([path, res.status, body.error.code]).toEqual([path, 400, code]);
      expect(body.error.message).toMatch(message);
    }
    // Repeated keys take the last value and empty ones are absent, as before the schemas.
    expect((await fetch(`${r.url}/api/profiles?limit=5000&limit=1&offset=`)).status).toBe(200);
  });
});
