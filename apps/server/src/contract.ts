// The server's side of the @prof/api contract: the OpenAPI document generated from the routes' schemas,
// query strings made to mean what they always meant before validation, and Fastify's validation
// errors turned into our `{ error: { code, message } }` answers.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { type BadValue, ERROR_RESPONSES, type ErrorCode, FLAG_TRUE } from '@prof/api';
import type { TSchema } from 'typebox';
import { HttpError, httpError } from './http-error';

/** Schema keywords of @prof/api that Ajv must accept as annotations. */
export const CONTRACT_KEYWORDS = ['x-error', 'x-expected'];

interface PropertySchema extends BadValue {
  type?: string | string[];
  anyOf?: { const?: unknown }[];
  minimum?: number;
  maximum?: number;
  description?: string;
  items?: PropertySchema;
}
interface ObjectSchema {
  properties?: Record<string, PropertySchema>;
}

export async function registerContract(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Prof server',
        version: '1',
        description: 'Profiles in, views out. Error codes: docs/errors.md; every route: apps/server/README.md.',
      },
    },
  });
  app.get('/api/openapi.json', { schema: { description: 'this document' } }, async () => app.swagger());

  // A repeated key takes its last value and an empty one counts as absent, as the hand parsers did
  // (`?from=&to=5`, a vmprof client's base URL query joined to the route's); only `tag` is a list.
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema?.querystring as ObjectSchema | undefined;
    const query = request.query as Record<string, unknown>;
    if (!schema?.properties || !query) return;
    for (const [key, value] of Object.entries(query)) {
      const property = schema.properties[key];
      if (!property || property.type === 'array') continue;
      const last = Array.isArray(value) ? value[value.length - 1] : value;
      if (last === '' && property.type !== 'string') delete query[key];
      else query[key] = last;
      // Ajv coerces `Infinity` and `1e400` to Infinity and its number keywords let it through.
      if ((property.type === 'number' || property.type === 'integer') && Math.abs(Number(last)) === Infinity)
        throw httpError(
          property['x-error'] ?? 'bad-query',
          `query parameter ${key}=${shown(last)} is not a finite number`,
        );
    }
  });
}

// What a validated query value means; the schemas already refused what cannot be read.

/** A validated yes/no parameter (`FLAG_TRUE` or its opposites) as a boolean. */
export const flag = (value: string | undefined): boolean | undefined =>
  value === undefined ? undefined : (FLAG_TRUE as readonly string[]).includes(value);

/** A validated time (epoch ms or an ISO date) as epoch ms; a date the calendar has not (`2026-13-45`) is a 400. */
export function epochMs(key: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value))
    throw new HttpError(400, 'bad-query', `query parameter ${key}=${JSON.stringify(text)} is not a date`);
  return value;
}

/** Validated `tag` values (`key=value`, or a bare `key` where the schema allows it) as `{ key: value | null }`. */
export function tagsOf(values: readonly string[] | undefined): Record<string, string | null> {
  const tags: Record<string, string | null> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    tags[eq < 0 ? value : value.slice(0, eq)] = eq < 0 ? null : value.slice(eq + 1);
  }
  return tags;
}

const PART_NAMES: Record<string, string> = { querystring: 'query parameter', params: 'path parameter' };

/** `1.5`, `-3` as they are; anything else quoted, cut to 64 characters. */
function shown(raw: unknown): string {
  const text = String(raw);
  return /^-?\d+(\.\d+)?$/.test(text) ? text : JSON.stringify(text.slice(0, 64));
}

/** The raw text of a query parameter (its last value, or value `index` of a list), before coercion changed it. */
function rawQueryValue(request: FastifyRequest, key: string, index?: number): string | undefined {
  const q = request.url.indexOf('?');
  if (q < 0) return undefined;
  const values = new URLSearchParams(request.url.slice(q + 1)).getAll(key);
  return index !== undefined ? values[index] : values.length ? values[values.length - 1] : undefined;
}

function numberRange(p: PropertySchema): string {
  const kind = p.type === 'integer' ? 'an integer' : 'a number';
  const min = p.minimum !== undefined && p.minimum > -Number.MAX_SAFE_INTEGER ? p.minimum : undefined;
  const max = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : undefined;
  if (min !== undefined && max !== undefined) return `must be ${kind} from ${min} to ${max}`;
  if (min !== undefined) return `must be ${kind} from ${min}`;
  if (max !== undefined) return `must be ${kind} up to ${max}`;
  return `must be ${kind}`;
}

const listed = (values: unknown[]) =>
  values.length < 2 ? String(values[0]) : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;

/**
 * A Fastify validation error as the 400 our routes always gave: the code the schema names (`x-error`;
 * else `bad-id` for path ids, `bad-query` for the rest) and a message naming the field and its value.
 */
export function validationError(error: FastifyError, request: FastifyRequest): HttpError | null {
  const first = error.validation?.[0];
  if (!first) return null;
  const part = error.validationContext ?? 'querystring';
  const schema = (request.routeOptions.schema as Record<string, ObjectSchema | undefined> | undefined)?.[part];
  const missing =
    first.keyword === 'required' ? String((first.params as { missingProperty?: unknown }).missingProperty) : null;
  const [, key = '', item] = first.instancePath.split('/');
  const field = missing ?? decodeURIComponent(key);
  const own: PropertySchema = schema?.properties?.[field] ?? {};
  // A bad entry of a list (`tag`) is described by the list's item schema.
  const property: PropertySchema = item !== undefined && own.items ? own.items : own;
  const code: ErrorCode = property['x-error'] ?? (part === 'params' ? 'bad-id' : 'bad-query');
  const name = PART_NAMES[part] ?? part;
  if (missing !== null) {
    const what = property.description ? ` (${property.description})` : '';
    // A missing id is a request without it, not a malformed id.
    return httpError(code === 'bad-id' ? 'bad-query' : code, `${name} ${field}${what} is required`);
  }
  const raw =
    part === 'querystring'
      ? rawQueryValue(request, field, item === undefined ? undefined : Number(item))
      : (request[part as 'params' | 'body'] as Record<string, unknown> | undefined)?.[field];
  if (part === 'params' && code === 'bad-id') {
    return httpError(code, `invalid profile id ${JSON.stringify(String(raw).slice(0, 64))}: ${property['x-expected']}`);
  }
  const value = `${field}=${shown(raw)}`;
  // `base="nope" is not a profile id: …` (the compare routes' ids).
  if (code === 'bad-id') return httpError(code, `${value} ${property['x-expected']}`);
  if (property['x-expected']) return httpError(code, `${name} ${value} ${property['x-expected']}`);
  const choices = property.anyOf?.map((option) => option.const).filter((c) => c !== undefined);
  if (choices?.length) return httpError(code, `${value}: expected ${listed(choices)}`);
  if (property.type === 'number' || property.type === 'integer') {
    const finite = raw !== undefined && raw !== '' && Number.isFinite(Number(raw));
    return httpError(code, `${name} ${value} ${finite ? numberRange(property) : 'is not a finite number'}`);
  }
  return httpError(code, `${name} ${value} ${first.message ?? 'is not valid'}`);
}

/** A route's answers: `ok` with `status` (none for a body that is not JSON), and the error answer for the rest. */
// Typed loosely (a handler's answer is checked by Fastify's serializer, not by tsc): TypeBox's static
// type of the error catalogue union would make every handler's return a type error.
export function responses(ok: TSchema | null, status = 200): Record<string, TSchema> {
  return ok ? { [status]: ok, ...ERROR_RESPONSES } : { ...ERROR_RESPONSES };
}
