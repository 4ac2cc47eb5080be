import { createHash } from 'node:crypto';
import pg from 'pg';
import type {
  IndexRowInput,
  ProfileIndex,
  ProfileRow,
  ProjectSummary,
  SearchQuery,
  SearchResult,
  SortKey,
} from './types';
import { MAX_NAMES_PER_PROJECT, MAX_PAGE } from './sqlite-index';
import { StoreUnavailableError, isNetworkError } from './unavailable';

/**
 * Versioned migrations, applied in order at open under an advisory lock (several instances may start
 * at once: one applies, the others wait and find nothing left to do). Never edit an applied one: add
 * the next. Text columns sort as bytes (`COLLATE "C"`), as SQLite does, whatever the database's locale.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
  CREATE TABLE profiles (
    seq bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    project text COLLATE "C",
    name text COLLATE "C",
    tags text NOT NULL, -- the JSON as given (key order kept)
    tag_set jsonb NOT NULL, -- the same, searchable (@> for key and value, ? for a key)
    interpreter text,
    host text,
    start double precision,
    "end" double precision,
    duration_ms double precision NOT NULL,
    sample_count double precision NOT NULL,
    size_bytes double precision NOT NULL,
    peak_memory double precision,
    has_memory boolean NOT NULL,
    uploaded_at double precision NOT NULL,
    threads integer NOT NULL,
    zone text,
    at double precision NOT NULL, -- start, or the upload time when the start is unknown
    search_text text NOT NULL, -- lower-cased "project U+0001 name", searched by substring through trigrams
    group_key text NOT NULL -- JSON [project, name]: the project_names row of the profile
  );
  CREATE INDEX profiles_uploaded ON profiles (uploaded_at, seq);
  CREATE INDEX profiles_memory ON profiles (has_memory, uploaded_at);
  CREATE INDEX profiles_at ON profiles (at);
  CREATE INDEX profiles_project_name ON profiles (project, name, uploaded_at);
  CREATE INDEX profiles_group ON profiles (group_key, uploaded_at);
  CREATE INDEX profiles_name ON profiles (name);
  CREATE INDEX profiles_duration ON profiles (duration_ms);
  CREATE INDEX profiles_peak ON profiles (peak_memory);
  CREATE INDEX profiles_size ON profiles (size_bytes);
  CREATE INDEX profiles_samples ON profiles (sample_count);
  CREATE INDEX profiles_text ON profiles USING gin (search_text public.gin_trgm_ops);
  CREATE INDEX profiles_tags ON profiles USING gin (tag_set);
  CREATE TABLE project_names (
    key text PRIMARY KEY,
    project text COLLATE "C",
    name text COLLATE "C",
    count bigint NOT NULL,
    last_upload double precision NOT NULL,
    last_duration double precision NOT NULL,
    total_duration double precision NOT NULL,
    peak_memory double precision
  );
  CREATE FUNCTION profiles_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO project_names AS p (key, project, name, count, last_upload, last_duration, total_duration, peak_memory)
    VALUES (NEW.group_key, NEW.project, NEW.name, 1, NEW.uploaded_at, NEW.duration_ms, NEW.duration_ms, NEW.peak_memory)
    ON CONFLICT (key) DO UPDATE SET count = p.count + 1,
      last_duration = CASE WHEN excluded.last_upload >= p.last_upload THEN excluded.last_duration ELSE p.last_duration END,
      last_upload = greatest(p.last_upload, excluded.last_upload),
      total_duration = p.total_duration + excluded.total_duration,
      peak_memory = CASE WHEN p.peak_memory IS NULL OR excluded.peak_memory > p.peak_memory
        THEN coalesce(excluded.peak_memory, p.peak_memory) ELSE p.peak_memory END;
    RETURN NULL;
  END $$;
  CREATE TRIGGER profiles_insert AFTER INSERT ON profiles FOR EACH ROW EXECUTE FUNCTION profiles_inserted();
  -- The summary row is locked first: the statements after it then take a snapshot that sees every
  -- other transaction's committed change to the same (project, name).
  CREATE FUNCTION profiles_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM 1 FROM project_names WHERE key = OLD.group_key FOR UPDATE;
    UPDATE project_names SET count = count - 1,
      last_upload = coalesce((SELECT max(uploaded_at) FROM profiles WHERE group_key = OLD.group_key), 0),
      last_duration = coalesce((SELECT duration_ms FROM profiles WHERE group_key = OLD.group_key
        ORDER BY uploaded_at DESC, seq DESC LIMIT 1), 0),
      total_duration = total_duration - OLD.duration_ms,
      peak_memory = CASE WHEN OLD.peak_memory >= peak_memory
        THEN (SELECT max(peak_memory) FROM profiles WHERE group_key = OLD.group_key) ELSE peak_memory END
    WHERE key = OLD.group_key;
    DELETE FROM project_names WHERE key = OLD.group_key AND count <= 0;
    RETURN NULL;
  END $$;
  CREATE TRIGGER profiles_delete AFTER DELETE ON profiles FOR EACH ROW EXECUTE FUNCTION profiles_deleted();`,
  // Sort indexes in the exact order a page asks for (column, then seq; NULLS LAST both ways for the nullable
  // columns): the newest page at 100,000 profiles went from a 100 ms sort of every row to an index walk.
  `DROP INDEX profiles_uploaded, profiles_memory, profiles_at, profiles_name, profiles_duration, profiles_peak,
    profiles_size, profiles_samples;
  CREATE INDEX profiles_uploaded ON profiles (uploaded_at, seq);
  CREATE INDEX profiles_memory ON profiles (has_memory, uploaded_at, seq);
  CREATE INDEX profiles_at ON profiles (at, seq);
  CREATE INDEX profiles_duration ON profiles (duration_ms, seq);
  CREATE INDEX profiles_size ON profiles (size_bytes, seq);
  CREATE INDEX profiles_samples ON profiles (sample_count, seq);
  CREATE INDEX profiles_peak_asc ON profiles (peak_memory ASC NULLS LAST, seq);
  CREATE INDEX profiles_peak_desc ON profiles (peak_memory DESC NULLS LAST, seq DESC);
  CREATE INDEX profiles_project_asc ON profiles (project ASC NULLS LAST, seq);
  CREATE INDEX profiles_project_desc ON profiles (project DESC NULLS LAST, seq DESC);
  CREATE INDEX profiles_name_asc ON profiles (name ASC NULLS LAST, seq);
  CREATE INDEX profiles_name_desc ON profiles (name DESC NULLS LAST, seq DESC);`,
  // Uploads acknowledged before conversion (the vmprof runtime protocol, /submit/): their raw body is under the
  // bucket's incoming/ prefix, and the instance converting one holds its lease (epoch ms, PostgreSQL's clock).
  // An expired lease is an instance that died: any other takes the job over (shared-uploads.ts).
  `CREATE TABLE upload_jobs (
    id text PRIMARY KEY,
    job text NOT NULL,
    received_at double precision NOT NULL,
    owner text NOT NULL,
    lease_until double precision NOT NULL,
    failed_code text,
    failed_message text
  );
  CREATE INDEX upload_jobs_lease ON upload_jobs (lease_until) WHERE failed_code IS NULL;`,
];

/** Sort columns that are never NULL: their ORDER BY has no NULLS clause, so a plain index serves both ways. */
const NOT_NULL_SORTS = new Set(['uploaded_at', 'at', 'duration_ms', 'sample_count', 'size_bytes']);

/**
 * Advisory lock keys: (space, purpose). Migrations lock the whole database (CREATE EXTENSION in public is
 * shared by every schema); retention and sweeps lock only their schema, so deployments sharing a database
 * under different schemas never skip each other's sweep.
 */
const LOCK_SPACE = 0x70726f66; // "prof"
export const LOCKS = { migrate: 1, retention: 2, sweep: 3 } as const;
const schemaLockSpace = (schema: string | undefined): number =>
  schema === undefined ? LOCK_SPACE : createHash('sha256').update(`prof:${schema}`).digest().readInt32BE(0);

const SORT_COLUMNS: Record<SortKey, string> = {
  uploadedAt: 'uploaded_at',
  start: 'at',
  durationMs: 'duration_ms',
  peakMemory: 'peak_memory',
  sampleCount: 'sample_count',
  sizeBytes: 'size_bytes',
  project: 'project',
  name: 'name',
};
const DEFAULT_PAGE = 50;

const ROW_COLUMNS = `id, project, name, tags, interpreter, host, start, "end", duration_ms, sample_count, size_bytes,
  peak_memory, has_memory, uploaded_at, threads, zone`;
const INSERT_COLUMNS = `${ROW_COLUMNS}, tag_set, at, search_text, group_key`;
const INSERT_WIDTH = 20;

interface RawRow {
  id: string;
  project: string | null;
  name: string | null;
  tags: string;
  interpreter: string | null;
  host: string | null;
  start: number | null;
  end: number | null;
  duration_ms: number;
  sample_count: number;
  size_bytes: number;
  peak_memory: number | null;
  has_memory: boolean;
  uploaded_at: number;
  threads: number;
  zone: string | null;
}

function toRow(raw: RawRow): ProfileRow {
  return {
    id: raw.id,
    project: raw.project,
    name: raw.name,
    tags: JSON.parse(raw.tags) as Record<string, string>,
    interpreter: raw.interpreter,
    host: raw.host,
    start: raw.start,
    end: raw.end,
    durationMs: raw.duration_ms,
    sampleCount: raw.sample_count,
    sizeBytes: raw.size_bytes,
    peakMemory: raw.peak_memory,
    hasMemory: raw.has_memory,
    uploadedAt: raw.uploaded_at,
    threads: raw.threads,
    zone: raw.zone,
  };
}

/** PostgreSQL text cannot hold U+0000: it is kept as U+FFFD (the replacement character). */
const text = (value: string | null | undefined): string | null =>
  value == null ? null : value.replace(/\0/g, '\uFFFD');
/** What substring search reads; the separator is U+0001 (a NUL, as in SQLite, is not allowed). */
const searchTextOf = (project: string | null, name: string | null) =>
  `${text(project) ?? ''}\u0001${text(name) ?? ''}`.toLowerCase();
const tagSetOf = (tags: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(tags).map(([k, v]) => [text(k), text(v)])));
/** `%q%` for LIKE, its wildcards and escape character taken literally. */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function insertValues(row: IndexRowInput): unknown[] {
  return [
    row.id,
    text(row.project),
    text(row.name),
    JSON.stringify(row.tags),
    text(row.interpreter),
    text(row.host),
    row.start,
    row.end,
    row.durationMs,
    row.sampleCount,
    row.sizeBytes,
    row.peakMemory,
    row.hasMemory,
    row.uploadedAt,
    row.threads,
    text(row.zone ?? null),
    tagSetOf(row.tags),
    row.start ?? row.uploadedAt,
    searchTextOf(row.project, row.name),
    JSON.stringify([text(row.project), text(row.name)]),
  ];
}

/** bigint and numeric as JS numbers: counts and sums stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC
      ? Number
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PostgresIndexOptions {
  /** Schema to keep the tables in (created if missing); default the connection's search_path (public). */
  schema?: string;
  /** Connections in the pool. Default 10. */
  maxConnections?: number;
}

/** `postgres://...?schema=name`: the schema is ours, the rest is the driver's connection string. */
export function parsePostgresUrl(url: string): { connectionString: string; schema?: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new Error(`${url.replace(/\/\/[^@/]*@/, '//***@')}: expected a postgres:// URL`);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The index in PostgreSQL: the same rows, answers and plan shapes as `SqliteProfileIndex` (one test
 * suite runs against both), for several servers sharing one database. Substring search is a LIKE over
 * the trigram (pg_trgm GIN) index; the project summary is kept by triggers in the row's transaction.
 */
export class PostgresProfileIndex implements ProfileIndex {
  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string | undefined,
  ) {}

  /** Connects and applies the migrations not yet applied. */
  static async open(url: string, options: PostgresIndexOptions = {}): Promise<PostgresProfileIndex> {
    const { connectionString, schema: fromUrl } = parsePostgresUrl(url);
    const schema = options.schema ?? fromUrl;
    const pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      types,
      connectionTimeoutMillis: 5_000,
      // search_path per connection: our schema first, public (pg_trgm's operators) after it
      options: schema ? `-c search_path=${quoteIdent(schema)},public` : undefined,
    });
    // An idle connection cut by a restart of the server must not end the process; the next query reconnects.
    pool.on('error', () => {});
    const index = new PostgresProfileIndex(pool, schema);
    try {
      await index.migrate();
    } catch (error) {
      await pool.end().catch(() => {});
      throw index.translate(error);
    }
    return index;
  }

  /** Applies what is missing, one migration per transaction, under the migration lock. */
  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_SPACE, LOCKS.migrate]);
      try {
        if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
        await client.query(
          'CREATE TABLE IF NOT EXISTS prof_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM prof_migrations');
        const applied = rows[0].v ?? 0;
        if (applied > MIGRATIONS.length)
          throw new Error(
            `the index was migrated by a newer Prof (schema ${applied}; this one knows ${MIGRATIONS.length})`,
          );
        for (let version = applied + 1; version <= MIGRATIONS.length; version++) {
          await client.query('BEGIN');
          try {
            await client.query(MIGRATIONS[version - 1]);
            await client.query('INSERT INTO prof_migrations (version) VALUES ($1)', [version]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, LOCKS.migrate]);
      }
    } finally {
      client.release();
    }
  }

  /** The schema version applied (the number of migrations). */
  async schemaVersion(): Promise<number> {
    const { rows } = await this.query<{ v: number }>('SELECT max(version) AS v FROM prof_migrations');
    return rows[0].v;
  }

  /** Connection-level failures become `StoreUnavailableError` (a 503); the rest stay as they are. */
  private translate(error: unknown): unknown {
    const code = (error as { code?: string }).code ?? '';
    const message = (error as Error).message ?? String(error);
    if (
      isNetworkError(error) ||
      code.startsWith('08') || // connection exceptions
      code.startsWith('57P') || // shutdown, crash, cannot connect now
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
        message,
      )
    ) {
      return new StoreUnavailableError('index', message);
    }
    return error;
  }

  /** One statement on the pool (also for the store's other tables: `SharedUploads`). */
  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<T>> {
    try {
      return await this.pool.query<T>(sql, params);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** True when the database answers (for readiness probes). */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /**
   * Runs `fn` if no other instance holds the lock `key` (session advisory lock on a dedicated
   * connection: released when `fn` ends, or by PostgreSQL when this process dies). Returns
   * `{ ran: false }` when another instance holds it.
   */
  async exclusive<T>(key: keyof typeof LOCKS, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    let broken = false;
    try {
      const space = schemaLockSpace(this.schema);
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [
        space,
        LOCKS[key],
      ]);
      if (!rows[0].locked) return { ran: false };
      try {
        return { ran: true, value: await fn() };
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [space, LOCKS[key]]).catch(() => {
          broken = true; // the session is gone, and its lock with it
        });
      }
    } catch (error) {
      throw this.translate(error);
    } finally {
      client.release(broken);
    }
  }

  async insert(row: IndexRowInput): Promise<void> {
    await this.insertMany([row]);
  }

  /** Inserts rows in one transaction (bulk imports, benchmarks, migration). */
  async insertMany(rows: IndexRowInput[]): Promise<void> {
    if (rows.length === 1) {
      await this.query(`INSERT INTO profiles (${INSERT_COLUMNS}) VALUES (${placeholders(0)})`, insertValues(rows[0]));
      return;
    }
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    try {
      await client.query('BEGIN');
      for (let i = 0; i < rows.length; i += 1000) {
        const batch = rows.slice(i, i + 1000);
        await client.query(
          `INSERT INTO profiles (${INSERT_COLUMNS}) VALUES ${batch.map((_, j) => `(${placeholders(j)})`).join(', ')}`,
          batch.flatMap(insertValues),
        );
      }
      await client.query('COMMIT');
      // fresh statistics after a bulk load, so the planner picks the sort and trigram indexes at once
      if (rows.length >= 1000) await client.query('ANALYZE profiles');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw this.translate(error);
    } finally {
      client.release();
    }
  }

  /**
   * Puts `row` in place of the row with its id in one transaction (readers see the old or the new
   * row, never none); false, changing nothing, when there is no such row (deleted meanwhile).
   */
  async replace(row: IndexRowInput): Promise<boolean> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    try {
      await client.query('BEGIN');
      // delete + insert rather than UPDATE: the project summary is kept by the insert and delete triggers
      const { rowCount } = await client.query('DELETE FROM profiles WHERE id = $1', [row.id]);
      if (!rowCount) {
        await client.query('ROLLBACK');
        return false;
      }
      await client.query(`INSERT INTO profiles (${INSERT_COLUMNS}) VALUES (${placeholders(0)})`, insertValues(row));
      await client.query('COMMIT');
      return true;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw this.translate(error);
    } finally {
      client.release();
    }
  }

  async get(id: string): Promise<ProfileRow | null> {
    const { rows } = await this.query<RawRow>(`SELECT ${ROW_COLUMNS} FROM profiles WHERE id = $1`, [id]);
    return rows.length ? toRow(rows[0]) : null;
  }

  async remove(ids: string[]): Promise<number> {
    if (!ids.length) return 0;
    const { rowCount } = await this.query('DELETE FROM profiles WHERE id = ANY($1::text[])', [ids]);
    return rowCount ?? 0;
  }

  /** Count and page as two statements; PostgreSQL's planner picks the index (trigram, tags, sort column). */
  async search(query: SearchQuery): Promise<SearchResult> {
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where: string[] = [];
    if (query.q) where.push(`search_text LIKE ${param(likePattern(query.q.toLowerCase().replace(/\0/g, '\u0001')))}`);
    if (query.project !== undefined) where.push(`project = ${param(text(query.project))}`);
    if (query.name !== undefined) where.push(`name = ${param(text(query.name))}`);
    for (const [key, value] of Object.entries(query.tags ?? {})) {
      if (value === null) where.push(`tag_set ? ${param(text(key))}`);
      else where.push(`tag_set @> ${param(JSON.stringify({ [text(key)!]: text(value) }))}::jsonb`);
    }
    if (query.from !== undefined) where.push(`at >= ${param(query.from)}`);
    if (query.to !== undefined) where.push(`at <= ${param(query.to)}`);
    if (query.hasMemory !== undefined) where.push(`has_memory = ${param(query.hasMemory)}`);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const column = SORT_COLUMNS[query.sort ?? 'uploadedAt'] ?? 'uploaded_at';
    const direction = query.order === 'asc' ? 'ASC' : 'DESC';
    const limit = Math.max(0, Math.min(MAX_PAGE, Math.floor(query.limit ?? DEFAULT_PAGE)));
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const filterParams = [...params];
    const count = this.query<{ total: number }>(`SELECT count(*) AS total FROM profiles ${filter}`, filterParams);
    const page =
      limit === 0
        ? null
        : this.query<RawRow>(
            `SELECT ${ROW_COLUMNS} FROM profiles ${filter}
             ORDER BY ${column} ${direction}${NOT_NULL_SORTS.has(column) ? '' : ' NULLS LAST'}, seq ${direction} LIMIT ${param(limit)} OFFSET ${param(offset)}`,
            params,
          );
    const [{ rows: counted }, rows] = await Promise.all([count, page]);
    const total = counted[0].total;
    return { total, items: rows ? rows.rows.map(toRow) : [] };
  }

  async projects(): Promise<ProjectSummary[]> {
    const { rows } = await this.query<{
      project: string | null;
      name: string | null;
      count: number;
      last_upload: number;
      last_duration: number;
      total_duration: number;
      peak_memory: number | null;
    }>(
      `SELECT project, name, count, last_upload, last_duration, total_duration, peak_memory FROM project_names
       ORDER BY count DESC, name ASC NULLS FIRST`,
    );
    const byProject = new Map<string | null, ProjectSummary>();
    for (const row of rows) {
      let summary = byProject.get(row.project);
      if (!summary) {
        summary = {
          project: row.project,
          count: 0,
          lastUpload: -Infinity,
          nameCount: 0,
          names: [],
          peakMemory: null,
          lastDurationMs: 0,
          totalDurationMs: 0,
        };
        byProject.set(row.project, summary);
      }
      summary.count += row.count;
      summary.nameCount++;
      if (row.last_upload > summary.lastUpload) {
        summary.lastUpload = row.last_upload;
        summary.lastDurationMs = row.last_duration;
      }
      summary.totalDurationMs += row.total_duration;
      if (row.peak_memory !== null && (summary.peakMemory === null || row.peak_memory > summary.peakMemory))
        summary.peakMemory = row.peak_memory;
      if (summary.names.length < MAX_NAMES_PER_PROJECT) summary.names.push({ name: row.name, count: row.count });
    }
    return [...byProject.values()].sort((a, b) => b.lastUpload - a.lastUpload);
  }

  async ids(): Promise<string[]> {
    const { rows } = await this.query<{ id: string }>('SELECT id FROM profiles');
    return rows.map((r) => r.id);
  }

  /** Oldest first, read in pages of 1,000 until nothing more qualifies. */
  async pruneCandidates(options: {
    before?: number;
    maxTotalBytes?: number;
  }): Promise<{ id: string; sizeBytes: number }[]> {
    let remaining = (await this.stats()).totalBytes;
    const chosen: { id: string; sizeBytes: number }[] = [];
    let after: [number, string] = [-Infinity, '0'];
    for (;;) {
      const { rows } = await this.query<{ id: string; size_bytes: number; uploaded_at: number; seq: string }>(
        `SELECT id, size_bytes, uploaded_at, seq::text AS seq FROM profiles
         WHERE (uploaded_at, seq) > ($1::float8, $2::bigint) ORDER BY uploaded_at, seq LIMIT 1000`,
        after,
      );
      for (const row of rows) {
        const tooOld = options.before !== undefined && row.uploaded_at < options.before;
        const tooBig = options.maxTotalBytes !== undefined && remaining > options.maxTotalBytes;
        if (!tooOld && !tooBig) return chosen;
        chosen.push({ id: row.id, sizeBytes: row.size_bytes });
        remaining -= row.size_bytes;
      }
      if (rows.length < 1000) return chosen;
      const last = rows[rows.length - 1];
      after = [last.uploaded_at, last.seq];
    }
  }

  async stats(): Promise<{ count: number; totalBytes: number }> {
    const { rows } = await this.query<{ count: number; totalBytes: number }>(
      'SELECT count(*) AS count, coalesce(sum(size_bytes), 0)::float8 AS "totalBytes" FROM profiles',
    );
    return rows[0];
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}

function placeholders(row: number): string {
  return Array.from({ length: INSERT_WIDTH }, (_, i) => `$${row * INSERT_WIDTH + i + 1}`).join(', ');
}
