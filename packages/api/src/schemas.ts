// The routes' schemas (TypeBox, so each is a JSON Schema value and a static type at once). The server
// registers them (Fastify validates requests and serialises answers with them, @fastify/swagger turns
// them into /api/openapi.json); the browser imports only their `Static` types.
import { type Static, type TSchema, Type } from 'typebox';
import { ERROR_CODES } from './errors';

/**
 * Schema annotations the server's validation-error mapper reads: the error code of a bad value
 * (default `bad-query`, `bad-id` for ids) and what to say after `name=value`.
 */
export interface BadValue {
  'x-error'?: 'bad-query' | 'bad-id' | 'bad-range' | 'bad-thread' | 'bad-frame';
  'x-expected'?: string;
}

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A finite number (the bounds keep `Infinity`, which query coercion accepts, out). */
const Finite = (options: object = {}) =>
  Type.Number({ minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE, ...options });

export const ProfileId = Type.String({
  pattern: '^[a-z2-7]{24}$',
  description: 'a profile id: 24 characters of [a-z2-7]',
  'x-error': 'bad-id',
  'x-expected': 'expected 24 characters of [a-z2-7]',
});
export const IdParams = Type.Object({ id: ProfileId });
export const RuntimeParams = Type.Object({
  rid: Type.String({ description: 'a runtime id issued by POST /api/runtime/new' }),
});

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
    }),
  },
  { description: 'every error answer; codes and statuses: docs/errors.md' },
);
/** The error answers every route may give, for the OpenAPI document. */
export const ERROR_RESPONSES = { '4xx': ErrorResponse, '5xx': ErrorResponse } as const;

// --- profiles and projects

export const ProfileRow = Type.Object({
  id: Type.String(),
  project: Nullable(Type.String()),
  name: Nullable(Type.String({ description: 'top-level function name' })),
  tags: Type.Record(Type.String(), Type.String()),
  interpreter: Nullable(Type.String()),
  host: Nullable(Type.String()),
  start: Nullable(Type.Number({ description: 'wall-clock start, epoch ms' })),
  end: Nullable(Type.Number()),
  durationMs: Type.Number(),
  sampleCount: Type.Number(),
  peakMemory: Nullable(Type.Number({ description: 'largest memory reading, bytes' })),
  hasMemory: Type.Boolean(),
  threads: Type.Number({ description: 'number of threads seen' }),
  zone: Nullable(Type.String({ description: 'time zone of the recording machine' })),
  sizeBytes: Type.Number({ description: 'size of the stored .msgpack.gz' }),
  uploadedAt: Type.Number({ description: 'epoch ms' }),
});
export type ProfileRow = Static<typeof ProfileRow>;

export const SearchResult = Type.Object({ total: Type.Number(), items: Type.Array(ProfileRow) });
export type SearchResult = Static<typeof SearchResult>;

export const SORT_KEYS = [
  'uploadedAt',
  'start',
  'durationMs',
  'peakMemory',
  'sampleCount',
  'sizeBytes',
  'project',
  'name',
] as const;
const Flag = Type.Union(['1', 'true', 'yes', '0', 'false', 'no'].map((v) => Type.Literal(v)));
const Time = Type.String({ description: 'epoch ms or an ISO date (2026-11-25, 2026-11-25T10:00:00Z)' });

export const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ description: 'substring of the project or the function name' })),
  project: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  tag: Type.Optional(Type.Array(Type.String(), { description: 'key=value or key, repeatable' })),
  from: Type.Optional(Time),
  to: Type.Optional(Time),
  hasMemory: Type.Optional(Flag),
  sort: Type.Optional(Type.Union(SORT_KEYS.map((k) => Type.Literal(k)))),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
});

export const ProjectSummary = Type.Object({
  project: Nullable(Type.String()),
  count: Type.Number(),
  lastUpload: Type.Number({ description: 'epoch ms' }),
  nameCount: Type.Number({ description: 'distinct top-level function names (names lists at most 100)' }),
  names: Type.Array(Type.Object({ name: Nullable(Type.String()), count: Type.Number() })),
  peakMemory: Nullable(Type.Number()),
  lastDurationMs: Type.Number(),
  totalDurationMs: Type.Number(),
});
export type ProjectSummary = Static<typeof ProjectSummary>;
export const ProjectsResponse = Type.Object({ projects: Type.Array(ProjectSummary) });

export const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    freeBytes: Nullable(Type.Number()),
    profiles: Nullable(Type.Number()),
    storedBytes: Nullable(Type.Number()),
  },
  { additionalProperties: true },
);

export const DeleteResponse = Type.Object({ deleted: Type.String() });
export const PruneQuery = Type.Object({
  olderThan: Type.Optional(Type.String({ description: '30d, 12h; a bare number is days' })),
  maxTotalSize: Type.Optional(Type.String({ description: '50GB, 500MiB' })),
});
export const PruneResponse = Type.Object(
  { deleted: Type.Array(Type.String()), freedBytes: Type.Number() },
  { additionalProperties: true },
);

// --- memory and stacks

export const MEMORY_SERIES = ['rss', 'heap'] as const;
export type MemorySeries = (typeof MEMORY_SERIES)[number];
const Series = Type.Union(
  MEMORY_SERIES.map((s) => Type.Literal(s)),
  { description: 'rss, or the V8 heap of Node profiles' },
);
const Thread = Type.Integer({ minimum: 0, description: 'a thread row' });
/** Largest `bins` of /memory and /api/compare/memory. */
export const MAX_API_BINS = 20_000;

export const MemoryQuery = Type.Object({
  from: Type.Optional(Finite({ description: 'ms since the start' })),
  to: Type.Optional(Finite({ description: 'ms since the start, exclusive' })),
  thread: Type.Optional(Thread),
  bins: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_API_BINS })),
  series: Type.Optional(Series),
  align: Type.Optional(Flag),
});

export const MemoryBin = Type.Object({
  start: Type.Number(),
  end: Type.Number(),
  count: Type.Integer(),
  mean: Nullable(Type.Number()),
  max: Nullable(Type.Number()),
  min: Nullable(Type.Number()),
});
export type MemoryBin = Static<typeof MemoryBin>;
export const MemoryResponse = Type.Object({
  bins: Type.Array(MemoryBin),
  unit: Type.Literal('bytes'),
  from: Type.Number(),
  to: Type.Number(),
  durationMs: Type.Number(),
  timeEstimated: Type.Boolean(),
  series: Series,
  available: Type.Array(Series),
});
export type MemoryResponse = Static<typeof MemoryResponse>;

export const Frame = Type.Object({
  name: Type.String(),
  file: Type.String(),
  line: Type.Integer(),
  kind: Type.String(),
});
export type Frame = Static<typeof Frame>;

export const StacksQuery = Type.Object({
  from: Type.Optional(Finite()),
  to: Type.Optional(Finite()),
  thread: Type.Optional(Thread),
  top: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  rank: Type.Optional(Type.Union([Type.Literal('count'), Type.Literal('growth')])),
  series: Type.Optional(Series),
});
export const StacksResponse = Type.Object({
  samples: Type.Integer(),
  from: Type.Number(),
  to: Type.Number(),
  prefix: Type.Array(Frame),
  extension: Type.Array(Frame),
  share: Type.Number(),
  top: Type.Array(
    Type.Object({
      stack: Type.Array(Frame),
      count: Type.Integer(),
      growth: Type.Optional(Type.Number({ description: 'bytes gained while the stack was on top' })),
    }),
  ),
});
export type StacksResponse = Static<typeof StacksResponse>;

// --- CPU views

const RangeEnd = (description: string) =>
  Type.Optional(Finite({ description, 'x-error': 'bad-range', 'x-expected': 'is not a finite number' }));
const CpuThread = Type.Optional(
  Type.Integer({ minimum: 0, 'x-error': 'bad-thread', 'x-expected': 'is not a thread row (an integer from 0)' }),
);
const Weight = Type.Union([Type.Literal('samples'), Type.Literal('time'), Type.Literal('growth')]);
export const CpuRangeQuery = Type.Object({
  from: RangeEnd('ms since the start'),
  to: RangeEnd('ms since the start, exclusive'),
  thread: CpuThread,
  weight: Type.Optional(Weight),
  series: Type.Optional(Series),
});
export const CpuTreeQuery = Type.Object({
  ...CpuRangeQuery.properties,
  minShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  maxNodes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  runner: Type.Optional(Flag),
});
export const CpuFrameQuery = Type.Object({
  ...CpuRangeQuery.properties,
  frame: Type.Integer({
    minimum: 0,
    description: 'a frame row',
    'x-error': 'bad-frame',
    'x-expected': 'is not a frame of this profile: expected a frame row',
  }),
});
/** CPU answers are columns of numbers; their full shape is documented in apps/server/README.md. */
const CpuAnswer = (description: string) => Type.Object({}, { additionalProperties: true, description });
export const CpuInfoResponse = CpuAnswer('threads, totals and the frame table of a profile');
export const CpuTreeResponse = CpuAnswer('the pruned call tree of a range, in preorder columns');
export const CpuFunctionsResponse = CpuAnswer('the function table of a range');
export const CpuCallsResponse = CpuAnswer('callers and callees of a frame in a range');
export const CpuLinesResponse = CpuAnswer('the executing lines of a frame in a range');

// --- comparisons

const CompareId = Type.String({ description: 'a profile id' });
const compareSide = (side: 'base' | 'target') => ({
  [`${side}From`]: Type.Optional(Finite()),
  [`${side}To`]: Type.Optional(Finite()),
  [`${side}Thread`]: Type.Optional(Thread),
});
export const CompareQuery = Type.Object({
  base: CompareId,
  target: CompareId,
  from: Type.Optional(Finite()),
  to: Type.Optional(Finite()),
  thread: Type.Optional(Thread),
  ...compareSide('base'),
  ...compareSide('target'),
  weight: Type.Optional(Type.Union([Type.Literal('samples'), Type.Literal('growth')])),
  series: Type.Optional(Series),
  top: Type.Optional(Type.Integer({ minimum: 0 })),
  minShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  bins: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_API_BINS })),
  align: Type.Optional(Type.Union([Type.Literal('runtime'), Type.Literal('clock')])),
});

const CompareSideInfo = Type.Object({
  id: Type.String(),
  from: Type.Number(),
  to: Type.Number(),
  thread: Type.Optional(Nullable(Type.Integer())),
  samples: Type.Integer(),
});
export type CompareSide = Static<typeof CompareSideInfo>;
const Weights = Type.Object({ self: Type.Number(), total: Type.Number() });
export type Weights = Static<typeof Weights>;
const CompareUnit = Type.Union([Type.Literal('samples'), Type.Literal('bytes')]);

export const FunctionChange = Type.Object({
  ...Frame.properties,
  base: Weights,
  target: Weights,
  baseShare: Weights,
  targetShare: Weights,
  delta: Weights,
  deltaShare: Weights,
  added: Type.Optional(Type.Boolean()),
  removed: Type.Optional(Type.Boolean()),
});
export type FunctionChange = Static<typeof FunctionChange>;
export const CompareFunctionsResponse = Type.Object({
  base: CompareSideInfo,
  target: CompareSideInfo,
  unit: CompareUnit,
  count: Type.Integer(),
  functions: Type.Array(FunctionChange),
});
export type CompareFunctionsResponse = Static<typeof CompareFunctionsResponse>;

export const DiffNode = Type.Object({
  ...Frame.properties,
  parent: Type.Integer(),
  depth: Type.Integer(),
  base: Weights,
  target: Weights,
  added: Type.Boolean(),
  removedTotal: Type.Number(),
});
export type DiffNode = Static<typeof DiffNode>;
export const CompareTreeResponse = Type.Object({
  base: CompareSideInfo,
  target: CompareSideInfo,
  unit: CompareUnit,
  minShare: Type.Number(),
  nodes: Type.Array(DiffNode),
});
export type CompareTreeResponse = Static<typeof CompareTreeResponse>;

export const StackChange = Type.Object({
  stack: Type.Array(Frame),
  depth: Type.Integer(),
  base: Type.Number(),
  target: Type.Number(),
  delta: Type.Number(),
  added: Type.Boolean(),
  removed: Type.Boolean(),
});
export type StackChange = Static<typeof StackChange>;
export const CompareStacksResponse = Type.Object({
  base: CompareSideInfo,
  target: CompareSideInfo,
  unit: CompareUnit,
  count: Type.Integer(),
  stacks: Type.Array(StackChange),
});
export type CompareStacksResponse = Static<typeof CompareStacksResponse>;

const BinSide = Type.Object({
  count: Type.Integer(),
  mean: Nullable(Type.Number()),
  max: Nullable(Type.Number()),
  min: Nullable(Type.Number()),
});
export const CompareMemoryBin = Type.Object({
  start: Type.Number(),
  end: Type.Number(),
  base: BinSide,
  target: BinSide,
  delta: Type.Object({ mean: Nullable(Type.Number()), max: Nullable(Type.Number()) }),
});
export type CompareMemoryBin = Static<typeof CompareMemoryBin>;
export const CompareMemoryResponse = Type.Object({
  base: CompareSideInfo,
  target: CompareSideInfo,
  unit: Type.Literal('bytes'),
  series: Type.String(),
  align: Type.Union([Type.Literal('runtime'), Type.Literal('clock')]),
  origin: Type.Optional(Type.Number({ description: 'with align=clock: epoch ms of offset 0' })),
  offsets: Type.Optional(Type.Object({ base: Type.Number(), target: Type.Number() })),
  bins: Type.Array(CompareMemoryBin),
});
export type CompareMemoryResponse = Static<typeof CompareMemoryResponse>;

// --- uploads

export const UploadQuery = Type.Object({
  project: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  tag: Type.Optional(Type.Array(Type.String(), { description: 'key=value, repeatable' })),
});
export const UploadBody = Type.Unknown({
  description: 'the profile bytes: a .msgpack.gz document, vmprof, V8 .cpuprofile, speedscope, folded stacks or Austin',
});
export const UploadResponse = Type.Object({ id: Type.String(), url: Type.String() });
export type UploadResponse = Static<typeof UploadResponse>;
export const StatusOk = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: true });
