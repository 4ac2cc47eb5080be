// The routes' schemas (TypeBox, so each is a JSON Schema value and a static type at once). The server
// registers them (Fastify validates requests and serialises answers with them, @fastify/swagger turns
// them into /api/openapi.json); the browser imports only their `Static` types.
import { type Static, type TNumberOptions, type TObjectOptions, type TProperties, type TSchema, Type } from 'typebox';
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

/**
 * A finite number. JSON Schema cannot say it and Ajv's query coercion turns `Infinity` into a number its
 * bounds let through: the server refuses non-finite numbers of every number parameter before validation.
 */
const Finite = (options: TNumberOptions = {}) => Type.Number(options);

const PROFILE_ID = '^[a-z2-7]{24}$';
export const ProfileId = Type.String({
  pattern: PROFILE_ID,
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
/** A yes/no query parameter: `1`, `true`, `yes` or `0`, `false`, `no`. */
export const FLAG_TRUE = ['1', 'true', 'yes'] as const;
const Flag = Type.Union([...FLAG_TRUE, '0', 'false', 'no'].map((v) => Type.Literal(v)));
const Time = Type.String({
  pattern: '^(-?\\d+(\\.\\d+)?|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?)?)$',
  description: 'epoch ms or an ISO date (2026-11-25, 2026-11-25T10:00:00Z)',
  'x-expected': 'is neither epoch ms nor an ISO date',
});
/** `key=value` (or, where `bare`, a lone `key`): a key of 1 to 200 characters. */
const Tags = (bare: boolean) =>
  Type.Array(
    Type.String({
      pattern: bare ? '^[^=]{1,200}(=|$)' : '^[^=]{1,200}=',
      'x-expected': bare ? 'is neither key=value nor key' : 'is not key=value',
    }),
    { description: bare ? 'key=value or key, repeatable' : 'key=value, repeatable' },
  );

export const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ description: 'substring of the project or the function name' })),
  project: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  tag: Type.Optional(Tags(true)),
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
  /** Inner bin edges moved to block starts when bins are wide (`BinQuery.snap` of @prof/binning). */
  snap: Type.Optional(Flag),
});

export const MemoryBin = Type.Object({
  start: Type.Number(),
  end: Type.Number(),
  count: Type.Integer(),
  mean: Nullable(Type.Number({ description: "mean of the bin's readings, rounded to a whole byte; null when empty" })),
  max: Nullable(Type.Number()),
  min: Nullable(Type.Number()),
  sd: Nullable(
    Type.Number({
      description:
        "standard deviation of the bin's readings (the same readings as mean), rounded to a whole byte; null when empty",
    }),
  ),
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
// CPU answers are columns (one array per field, an entry per row): compact to send and to read.
// Weights are numbers (µs of time and bytes of growth are fractional); rows and counts are integers.
/** An object with exactly these properties (the OpenAPI document says so; the browser checks it). */
const Closed = <P extends TProperties>(properties: P, options: TObjectOptions = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });
const Rows = Type.Array(Type.Integer());
const Values = Type.Array(Type.Number());
const CpuUnit = Type.Union([Type.Literal('samples'), Type.Literal('µs'), Type.Literal('bytes')], {
  description: 'unit of every weight: samples, µs (weight=time) or bytes (weight=growth)',
});

export const CpuInfoResponse = Closed(
  {
    meta: Closed({
      project: Nullable(Type.String()),
      name: Nullable(Type.String()),
      interpreter: Nullable(Type.String()),
      startTime: Nullable(Type.Number({ description: 'epoch ms' })),
      endTime: Nullable(Type.Number({ description: 'epoch ms' })),
      zone: Nullable(Type.String()),
      argv: Nullable(Type.Array(Type.String())),
      host: Nullable(Type.String()),
      source: Type.String({ description: 'the format the profile was read from (vmprof, v8-cpuprofile, …)' }),
      tags: Type.Record(Type.String(), Type.String()),
    }),
    frames: Closed(
      {
        name: Type.Array(Type.String()),
        file: Type.Array(Type.String()),
        line: Rows,
        kind: Rows,
        kindNames: Type.Array(Type.String(), { description: 'the name of each kind number' }),
      },
      { description: 'the frame table: a frame row indexes every column' },
    ),
    threads: Type.Array(Closed({ id: Type.String(), name: Nullable(Type.String()), samples: Type.Integer() })),
    sampleCount: Type.Integer(),
    durationMs: Type.Number(),
    hasMemory: Type.Boolean(),
    timeEstimated: Type.Boolean(),
    timeSource: Type.String({ description: 'how sample times were obtained; none: the duration is unknown' }),
    weighted: Type.Boolean({ description: 'samples carry a time weight (V8): the default weight is time' }),
    unit: Type.Union([Type.Literal('samples'), Type.Literal('µs')]),
    hasLines: Type.Boolean({ description: 'stacks record the executing line: /cpu/lines answers' }),
    hasRunnerFrames: Type.Boolean({ description: 'some stacks start with launcher frames (hidden unless runner=1)' }),
    warnings: Type.Array(
      Closed({ code: Type.String(), message: Type.String(), offset: Type.Optional(Type.Integer()) }),
    ),
  },
  { description: 'threads, totals and the frame table of a profile' },
);
export type CpuInfoResponse = Static<typeof CpuInfoResponse>;

/** What every range answer repeats of its question. */
const CpuAsked = {
  from: Nullable(Type.Number({ description: 'ms since the start; null: from the first sample' })),
  to: Nullable(Type.Number({ description: 'ms since the start, exclusive; null: to the last sample' })),
  thread: Nullable(Type.Integer()),
  unit: CpuUnit,
  samples: Type.Integer({ description: 'samples in the range' }),
};

export const CpuTreeResponse = Closed(
  {
    ...CpuAsked,
    runner: Type.Boolean(),
    minShare: Type.Number(),
    maxNodes: Type.Integer(),
    weightTotal: Type.Number(),
    unprunedNodes: Type.Integer({ description: 'nodes before pruning, root included' }),
    nodes: Closed(
      {
        length: Type.Integer(),
        frame: Type.Array(Type.Integer(), { description: 'frame row, -1 for the root' }),
        parent: Type.Array(Type.Integer(), { description: 'parent node, -1 for the root' }),
        depth: Rows,
        self: Values,
        total: Values,
        subtreeEnd: Type.Array(Type.Integer(), { description: "end (exclusive) of the node's subtree" }),
        offset: Type.Array(Type.Number(), { description: 'left edge in weight units' }),
        cut: Type.Array(Type.Number(), { description: 'weight of the children too thin to send' }),
        cutCount: Type.Array(Type.Integer(), { description: 'how many children were cut' }),
      },
      { description: 'one entry per node, in preorder (@prof/binning PrunedCallTree)' },
    ),
  },
  { description: 'the pruned call tree of a range, in preorder columns' },
);
export type CpuTreeResponse = Static<typeof CpuTreeResponse>;

export const CpuFunctionsResponse = Closed(
  {
    ...CpuAsked,
    weightTotal: Type.Number(),
    functions: Closed({ length: Type.Integer(), frame: Rows, self: Values, total: Values }),
  },
  { description: 'the function table of a range' },
);
export type CpuFunctionsResponse = Static<typeof CpuFunctionsResponse>;

const CallEdge = Closed({
  frame: Type.Integer({ description: 'frame row of the other function; -1 as a caller: the root of the stack' }),
  total: Type.Number(),
});
export const CpuCallsResponse = Closed(
  {
    ...CpuAsked,
    frame: Type.Integer(),
    self: Type.Number(),
    total: Type.Number(),
    callers: Type.Array(CallEdge, { description: 'heaviest first' }),
    callees: Type.Array(CallEdge, { description: 'heaviest first' }),
  },
  { description: 'callers and callees of a frame in a range' },
);
export type CpuCallsResponse = Static<typeof CpuCallsResponse>;

export const CpuLinesResponse = Closed(
  {
    ...CpuAsked,
    frame: Type.Integer(),
    lines: Type.Array(Closed({ line: Type.Integer(), self: Type.Number(), total: Type.Number() }), {
      description: 'by descending total, then line',
    }),
  },
  { description: 'the executing lines of a frame in a range' },
);
export type CpuLinesResponse = Static<typeof CpuLinesResponse>;

// --- comparisons

const CompareId = Type.String({
  pattern: PROFILE_ID,
  description: 'a profile id',
  'x-error': 'bad-id',
  'x-expected': 'is not a profile id: expected 24 characters of [a-z2-7]',
});
const SideFrom = (side: string) => Type.Optional(Finite({ description: `${side}'s window start (default from)` }));
const SideTo = (side: string) => Type.Optional(Finite({ description: `${side}'s window end (default to)` }));
const SideThread = (side: string) =>
  Type.Optional(Type.Integer({ minimum: 0, description: `${side}'s thread row (default thread)` }));
/** The query every /api/compare route reads; `top` differs per route (CompareFunctionsQuery, CompareStacksQuery). */
export const CompareQuery = Type.Object({
  base: CompareId,
  target: CompareId,
  from: Type.Optional(Finite()),
  to: Type.Optional(Finite()),
  thread: Type.Optional(Thread),
  baseFrom: SideFrom('base'),
  baseTo: SideTo('base'),
  baseThread: SideThread('base'),
  targetFrom: SideFrom('target'),
  targetTo: SideTo('target'),
  targetThread: SideThread('target'),
  weight: Type.Optional(Type.Union([Type.Literal('samples'), Type.Literal('growth')])),
  series: Type.Optional(Series),
  minShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  bins: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_API_BINS })),
  align: Type.Optional(Type.Union([Type.Literal('runtime'), Type.Literal('clock')])),
});
export type CompareQuery = Static<typeof CompareQuery>;
export const CompareFunctionsQuery = Type.Object({
  ...CompareQuery.properties,
  top: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'functions listed (default 1000)' })),
});
export const CompareStacksQuery = Type.Object({
  ...CompareQuery.properties,
  top: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'stacks listed (default 20)' })),
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
  added: Type.Boolean(),
  removed: Type.Boolean(),
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
  mean: Nullable(Type.Number({ description: 'rounded to a whole byte, as the single view answers it' })),
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
  tag: Type.Optional(Tags(false)),
});
export const UploadBody = Type.Unknown({
  description: 'the profile bytes: a .msgpack.gz document, vmprof, V8 .cpuprofile, speedscope, folded stacks or Austin',
});
export const UploadResponse = Type.Object({ id: Type.String(), url: Type.String() });
export type UploadResponse = Static<typeof UploadResponse>;
export const StatusOk = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: true });
