import Database from 'better-sqlite3';
import type {
  IndexRowInput,
  ProfileIndex,
  ProfileRow,
  ProjectSummary,
  SearchQuery,
  SearchResult,
  SortKey,
} from './types';

/**
 * Schema version 6 (`PRAGMA user_version`): 5 plus the profile's `zone` and per-name peak memory and
 * durations in `project_names`. Older databases (version 0: a WITHOUT ROWID table keyed by the text
 * id, tags in `profile_tags(profile_id, key, value)`) are rebuilt in place on open; columns an older
 * table lacks (`zone` before 6) read as NULL.
 */
const SCHEMA_VERSION = 6;

const SCHEMA = `
-- seq, the rowid, is the key every index and the text index refer to: 8-byte integers instead of
-- 24-character ids make the lookups and the match sets of a search several times cheaper.
CREATE TABLE IF NOT EXISTS profiles (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  project TEXT,
  name TEXT,
  tags TEXT NOT NULL,
  interpreter TEXT,
  host TEXT,
  start REAL,
  "end" REAL,
  duration_ms REAL NOT NULL,
  sample_count INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL,
  peak_memory REAL,
  has_memory INTEGER NOT NULL,
  uploaded_at REAL NOT NULL,
  threads INTEGER NOT NULL,
  -- IANA zone, UTC offset or abbreviation of the recording machine (the document's meta.zone)
  zone TEXT,
  -- start, or the upload time when the start is unknown: what time filters and "start" sorting use
  at REAL NOT NULL,
  -- lower-cased "project NUL name", searched by substring (JS lower-casing handles non-ASCII)
  search_text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS profiles_uploaded ON profiles (uploaded_at);
CREATE INDEX IF NOT EXISTS profiles_memory ON profiles (has_memory, uploaded_at);
CREATE INDEX IF NOT EXISTS profiles_at ON profiles (at);
CREATE INDEX IF NOT EXISTS profiles_project_name ON profiles (project, name, uploaded_at);
CREATE INDEX IF NOT EXISTS profiles_name ON profiles (name);
CREATE INDEX IF NOT EXISTS profiles_duration ON profiles (duration_ms);
CREATE INDEX IF NOT EXISTS profiles_peak ON profiles (peak_memory);
CREATE INDEX IF NOT EXISTS profiles_size ON profiles (size_bytes);
CREATE INDEX IF NOT EXISTS profiles_samples ON profiles (sample_count);
-- Substring search: trigrams of search_text (a phrase of trigrams is an exact substring match).
CREATE VIRTUAL TABLE IF NOT EXISTS profiles_text USING fts5(
  search_text, content = 'profiles', content_rowid = 'seq', tokenize = 'trigram case_sensitive 1'
);
-- Tags, one row each, exact and case-sensitive: a tag filter is a range of this key.
CREATE TABLE IF NOT EXISTS profile_tags (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (key, value, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS profile_tags_seq ON profile_tags (seq);
-- Projects and their top-level names with counts, so the landing page reads a few rows instead of
-- grouping every profile. key = json_array(project, name): NULL-safe and unique. last_duration is
-- the duration of the latest upload (ties: the later insert), peak_memory the largest peak (NULL
-- when no profile of the name has memory).
CREATE TABLE IF NOT EXISTS project_names (
  key TEXT PRIMARY KEY,
  project TEXT,
  name TEXT,
  count INTEGER NOT NULL,
  last_upload REAL NOT NULL,
  last_duration REAL NOT NULL,
  total_duration REAL NOT NULL,
  peak_memory REAL
) WITHOUT ROWID;
-- Triggers keep the text index, the tags and the project summary in the same transaction as the row.
CREATE TRIGGER IF NOT EXISTS profiles_insert AFTER INSERT ON profiles BEGIN
  INSERT INTO profiles_text (rowid, search_text) VALUES (NEW.seq, NEW.search_text);
  INSERT INTO profile_tags (key, value, seq) SELECT key, value, NEW.seq FROM json_each(NEW.tags);
  INSERT INTO project_names (key, project, name, count, last_upload, last_duration, total_duration, peak_memory)
  VALUES (json_array(NEW.project, NEW.name), NEW.project, NEW.name, 1, NEW.uploaded_at, NEW.duration_ms, NEW.duration_ms, NEW.peak_memory)
  ON CONFLICT (key) DO UPDATE SET count = count + 1,
    last_duration = CASE WHEN excluded.last_upload >= last_upload THEN excluded.last_duration ELSE last_duration END,
    last_upload = max(last_upload, excluded.last_upload),
    total_duration = total_duration + excluded.total_duration,
    peak_memory = CASE WHEN peak_memory IS NULL OR excluded.peak_memory > peak_memory THEN coalesce(excluded.peak_memory, peak_memory) ELSE peak_memory END;
END;
CREATE TRIGGER IF NOT EXISTS profiles_delete AFTER DELETE ON profiles BEGIN
  INSERT INTO profiles_text (profiles_text, rowid, search_text) VALUES ('delete', OLD.seq, OLD.search_text);
  DELETE FROM profile_tags WHERE seq = OLD.seq;
  -- The row is gone: the subqueries see the rest of its (project, name), latest first by the index.
  -- The peak is searched for again only when the deleted profile held it.
  UPDATE project_names SET count = count - 1,
    last_upload = coalesce((SELECT max(uploaded_at) FROM profiles WHERE project IS OLD.project AND name IS OLD.name), 0),
    last_duration = coalesce((SELECT duration_ms FROM profiles WHERE project IS OLD.project AND name IS OLD.name
      ORDER BY uploaded_at DESC, seq DESC LIMIT 1), 0),
    total_duration = total_duration - OLD.duration_ms,
    peak_memory = CASE WHEN OLD.peak_memory >= peak_memory
      THEN (SELECT max(peak_memory) FROM profiles WHERE project IS OLD.project AND name IS OLD.name) ELSE peak_memory END
  WHERE key = json_array(OLD.project, OLD.name);
  DELETE FROM project_names WHERE key = json_array(OLD.project, OLD.name) AND count <= 0;
END;
`;

/** Everything an older schema may have left under the names this one uses. */
const OLD_OBJECTS = `
DROP TRIGGER IF EXISTS project_names_insert; DROP TRIGGER IF EXISTS project_names_delete;
DROP TRIGGER IF EXISTS profiles_insert; DROP TRIGGER IF EXISTS profiles_delete;
DROP TABLE IF EXISTS profile_tags; DROP TABLE IF EXISTS project_names; DROP TABLE IF EXISTS profiles_text;
`;

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

export const MAX_PAGE = 1000;
const DEFAULT_PAGE = 50;
/** Names listed per project by `projects()` (the most used; `nameCount` says how many there are). */
export const MAX_NAMES_PER_PROJECT = 100;
/** Filters matching at most this many profiles are sorted from their matches alone. */
const SPARSE_MATCHES = 2000;

export interface SqliteIndexOptions {
  /** Filters matching at most this many profiles are sorted from their matches alone. Default 2000. */
  sparseMatches?: number;
}

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
  has_memory: number;
  uploaded_at: number;
  threads: number;
  zone: string | null;
}

const COLUMN_NAMES = [
  'id',
  'project',
  'name',
  'tags',
  'interpreter',
  'host',
  'start',
  'end',
  'duration_ms',
  'sample_count',
  'size_bytes',
  'peak_memory',
  'has_memory',
  'uploaded_at',
  'threads',
  'zone',
];
const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(', ');
const ROW_COLUMNS = quoted(COLUMN_NAMES);

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
    hasMemory: raw.has_memory === 1,
    uploadedAt: raw.uploaded_at,
    threads: raw.threads,
    zone: raw.zone,
  };
}

export function searchTextOf(project: string | null, name: string | null): string {
  return `${project ?? ''}\u0000${name ?? ''}`.toLowerCase();
}

/**
 * One condition of a search: a text or tag condition is a set of `seq`s from its own index
 * (countable alone); a column condition is a test of a `profiles` row.
 */
interface Condition {
  sql: string;
  params: unknown[];
  isSet: boolean;
}

/**
 * A condition in one of three roles. `drive`: SQLite may start the plan from it. `test` and
 * `testAll`: the plan walks a sort index and each condition only tests the rows met; `+seq IN (set)`
 * keeps SQLite from driving from a set and sorting every match, and tests each row against the set
 * with a Bloom filter instead (a page of 23,667 text matches: 7 ms instead of 21). `testAll` turns
 * column conditions into sets too (built from their indexes), so a walk in an order that no index of
 * theirs has needs no table lookup per row (has-memory, by duration, offset 20,000: 80 → 31 ms).
 */
function conditionSql(c: Condition, role: 'drive' | 'test' | 'testAll'): string {
  if (c.isSet) return `${role === 'drive' ? '' : '+'}seq IN (${c.sql})`;
  return role === 'testAll' ? `+seq IN (SELECT seq FROM profiles WHERE ${c.sql})` : c.sql;
}

/** The conditions of a query's filters. */
function conditionsOf(query: SearchQuery): Condition[] {
  const conditions: Condition[] = [];
  const column = (sql: string, ...params: unknown[]) => conditions.push({ sql, params, isSet: false });
  const set = (sql: string, ...params: unknown[]) => conditions.push({ sql, params, isSet: true });
  if (query.q) {
    const q = query.q.toLowerCase();
    if ([...q].length >= 3 && !q.includes('\u0000')) {
      // A phrase of the text's trigrams: its exact substrings (quotes doubled inside the phrase).
      set('SELECT rowid FROM profiles_text WHERE profiles_text MATCH ?', `"${q.replace(/"/g, '""')}"`);
    } else {
      column('instr(search_text, ?) > 0', q); // too short for trigrams: a scan
    }
  }
  if (query.project !== undefined) column('project = ?', query.project);
  if (query.name !== undefined) column('name = ?', query.name);
  for (const [key, value] of Object.entries(query.tags ?? {})) {
    if (value === null) set('SELECT seq FROM profile_tags WHERE key = ?', key);
    else set('SELECT seq FROM profile_tags WHERE key = ? AND value = ?', key, value);
  }
  if (query.from !== undefined) column('at >= ?', query.from);
  if (query.to !== undefined) column('at <= ?', query.to);
  if (query.hasMemory !== undefined) column('has_memory = ?', query.hasMemory ? 1 : 0);
  return conditions;
}

/**
 * The index in one SQLite file (WAL, synchronous NORMAL: commits that power loss takes back are rows of documents
 * already fsynced, which start-up repair indexes again; FULL made each upload's commit an fsync on the event loop).
 */
export class SqliteProfileIndex implements ProfileIndex {
  private readonly db: Database.Database;
  private readonly insertRow: Database.Statement;
  private readonly getRow: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly countAll: Database.Statement;
  private readonly projectNames: Database.Statement;
  /** Search statements by SQL text (a few hundred shapes at most: filters × sort × plan). */
  private readonly statements = new Map<string, Database.Statement>();
  private readonly sparseMatches: number;
  /**
   * Row count and bytes, kept as rows go in and out: `/health` asks for them on every call, and the
   * scan took 8-15 ms of the event loop at 100,000 rows. Exact because this connection is the only
   * writer (a server owns its data directory; `prof-server reindex` refuses while one runs).
   */
  private totals: { count: number; totalBytes: number };
  /** Rows waiting for the next flush, with their callers: one transaction per turn of the event loop. */
  private queued: { row: IndexRowInput; resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(file: string, options: SqliteIndexOptions = {}) {
    this.sparseMatches = Math.min(options.sparseMatches ?? SPARSE_MATCHES, 2 ** 31);
    this.db = new Database(file);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.migrate();
    } catch (error) {
      this.db.close(); // a damaged file is moved aside by the caller: no handle may stay on it
      throw error;
    }
    this.insertRow = this.db.prepare(
      `INSERT INTO profiles (${ROW_COLUMNS}, at, search_text) VALUES
       (@id, @project, @name, @tags, @interpreter, @host, @start, @end, @durationMs, @sampleCount, @sizeBytes,
        @peakMemory, @hasMemory, @uploadedAt, @threads, @zone, @at, @searchText)`,
    );
    this.getRow = this.db.prepare(`SELECT ${ROW_COLUMNS} FROM profiles WHERE id = ?`);
    this.deleteRow = this.db.prepare('DELETE FROM profiles WHERE id = ? RETURNING size_bytes').pluck();
    this.countAll = this.db.prepare('SELECT count(*) FROM profiles').pluck();
    // Rows as arrays: the landing page reads every (project, name), and objects cost a third more.
    this.projectNames = this.db
      .prepare(
        'SELECT project, name, count, last_upload, last_duration, total_duration, peak_memory FROM project_names ORDER BY count DESC, name',
      )
      .raw();
    this.totals = this.db
      .prepare('SELECT count(*) AS count, coalesce(sum(size_bytes), 0) AS totalBytes FROM profiles')
      .get() as { count: number; totalBytes: number };
  }

  /** Creates the schema, or rebuilds an older one: rows are copied in upload order, the triggers fill the rest. */
  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    this.db.transaction(() => {
      const old = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'profiles'").get();
      if (old) {
        this.db.exec('ALTER TABLE profiles RENAME TO profiles_old');
        for (const { name } of this.db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'profiles_old' AND sql IS NOT NULL",
          )
          .all() as { name: string }[]) {
          this.db.exec(`DROP INDEX "${name.replace(/"/g, '""')}"`);
        }
      }
      this.db.exec(OLD_OBJECTS);
      this.db.exec(SCHEMA);
      if (old) {
        const had = new Set(
          (this.db.prepare('PRAGMA table_info(profiles_old)').all() as { name: string }[]).map((c) => c.name),
        );
        const kept = quoted([...COLUMN_NAMES.filter((n) => had.has(n)), 'at', 'search_text']);
        this.db.exec(`INSERT INTO profiles (${kept}) SELECT ${kept} FROM profiles_old ORDER BY uploaded_at, id;
          DROP TABLE profiles_old;`);
      }
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= 1000) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Queued and committed with the other rows of this turn of the event loop, in one transaction: a
   * flood of uploads pays one commit per turn instead of one per row. A row that fails (a duplicate
   * id) rejects alone: SQLite backs out only the failing statement, the others commit.
   */
  insert(row: IndexRowInput): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queued.push({ row, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queued;
    if (!batch.length) return;
    this.queued = [];
    const failed = new Map<number, unknown>();
    try {
      this.db.transaction(() => {
        batch.forEach(({ row }, i) => {
          try {
            this.insertOne(row);
          } catch (error) {
            if (!this.db.inTransaction) throw error; // SQLite rolled the whole transaction back (disk full)
            failed.set(i, error);
          }
        });
      })();
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    batch.forEach(({ row, resolve, reject }, i) => {
      if (failed.has(i)) {
        reject(failed.get(i));
        return;
      }
      this.totals.count++;
      this.totals.totalBytes += row.sizeBytes;
      resolve();
    });
  }

  private insertOne(row: IndexRowInput): void {
    this.insertRow.run({
      ...row,
      tags: JSON.stringify(row.tags),
      hasMemory: row.hasMemory ? 1 : 0,
      zone: row.zone ?? null,
      at: row.start ?? row.uploadedAt,
      searchText: searchTextOf(row.project, row.name),
    });
  }

  /** Inserts rows in one transaction, at once (used by benchmarks, bulk imports and re-indexing). */
  insertMany(rows: IndexRowInput[]): void {
    this.db.transaction((all: IndexRowInput[]) => {
      for (const row of all) this.insertOne(row);
    })(rows);
    for (const row of rows) {
      this.totals.count++;
      this.totals.totalBytes += row.sizeBytes;
    }
  }

  async get(id: string): Promise<ProfileRow | null> {
    const raw = this.getRow.get(id) as RawRow | undefined;
    return raw ? toRow(raw) : null;
  }

  async remove(ids: string[]): Promise<number> {
    const sizes = this.db.transaction((all: string[]) => all.flatMap((id) => this.deleteRow.all(id) as number[]))(ids);
    this.totals.count -= sizes.length;
    for (const size of sizes) this.totals.totalBytes -= size;
    return sizes.length;
  }

  /**
   * The plan, at 100,000 rows (see the server bench for figures):
   * - no filter: the count is free and the page walks the sort index, ids only, so deep offsets stay cheap;
   * - filters: first up to `sparseMatches` + 1 matches, from whichever index SQLite finds cheapest.
   *   When that is every match, they are the total and only they are sorted. Otherwise the matches
   *   are dense: count them (the set alone when the query is one text or tag condition), then walk
   *   an index in the sort order, testing each row (see `conditionSql`), until the page is full.
   */
  async search(query: SearchQuery): Promise<SearchResult> {
    const conditions = conditionsOf(query);
    const column = SORT_COLUMNS[query.sort ?? 'uploadedAt'] ?? 'uploaded_at';
    const direction = query.order === 'asc' ? 'ASC' : 'DESC';
    const limit = Math.max(0, Math.min(MAX_PAGE, Math.floor(query.limit ?? DEFAULT_PAGE)));
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const order = (plus: string) => `ORDER BY ${plus}${column} ${direction} NULLS LAST, seq ${direction}`;
    const page = (seqs: string, params: unknown[]) =>
      (
        this.statement(`SELECT ${ROW_COLUMNS} FROM profiles WHERE seq IN (${seqs}) ${order('')}`).all(
          ...params,
        ) as RawRow[]
      ).map(toRow);

    const all = this.countAll.get() as number;
    if (!conditions.length) {
      if (limit === 0 || offset >= all) return { total: all, items: [] };
      return { total: all, items: page(`SELECT seq FROM profiles ${order('')} LIMIT ? OFFSET ?`, [limit, offset]) };
    }
    const where = (role: 'drive' | 'test' | 'testAll') =>
      `WHERE ${conditions.map((c) => conditionSql(c, role)).join(' AND ')}`;
    const params = conditions.flatMap((c) => c.params);
    // One text or tag condition: its set alone, which stops at the limit instead of being built whole.
    const alone = conditions.length === 1 && conditions[0].isSet;
    const matches = alone ? conditions[0].sql : `SELECT seq FROM profiles ${where('drive')}`;
    const head = this.statement(`${matches} LIMIT ?`)
      .pluck()
      .all(...params, this.sparseMatches + 1) as number[];
    if (head.length <= this.sparseMatches) {
      const total = head.length;
      if (limit === 0 || offset >= total) return { total, items: [] };
      const seqs = `SELECT seq FROM profiles WHERE seq IN (SELECT value FROM json_each(?)) ${order('+')} LIMIT ? OFFSET ?`;
      return { total, items: page(seqs, [JSON.stringify(head), limit, offset]) };
    }
    const total = this.statement(`SELECT count(*) FROM (${matches})`)
      .pluck()
      .get(...params) as number;
    if (limit === 0 || offset >= total) return { total, items: [] };
    // Indexes of column conditions (has_memory, project + name) are in upload order: walking them is the walk.
    const role = column === 'uploaded_at' ? 'test' : 'testAll';
    return {
      total,
      items: page(`SELECT seq FROM profiles ${where(role)} ${order('')} LIMIT ? OFFSET ?`, [...params, limit, offset]),
    };
  }

  async projects(): Promise<ProjectSummary[]> {
    const groups = this.projectNames.all() as [
      string | null,
      string | null,
      number,
      number,
      number,
      number,
      number | null,
    ][];
    const byProject = new Map<string | null, ProjectSummary>();
    for (const [project, name, count, lastUpload, lastDuration, totalDuration, peak] of groups) {
      let summary = byProject.get(project);
      if (!summary) {
        summary = {
          project,
          count: 0,
          lastUpload: -Infinity,
          nameCount: 0,
          names: [],
          peakMemory: null,
          lastDurationMs: 0,
          totalDurationMs: 0,
        };
        byProject.set(project, summary);
      }
      summary.count += count;
      summary.nameCount++;
      if (lastUpload > summary.lastUpload) {
        summary.lastUpload = lastUpload;
        summary.lastDurationMs = lastDuration;
      }
      summary.totalDurationMs += totalDuration;
      if (peak !== null && (summary.peakMemory === null || peak > summary.peakMemory)) summary.peakMemory = peak;
      if (summary.names.length < MAX_NAMES_PER_PROJECT) summary.names.push({ name, count });
    }
    return [...byProject.values()].sort((a, b) => b.lastUpload - a.lastUpload);
  }

  async ids(): Promise<string[]> {
    return this.db.prepare('SELECT id FROM profiles').pluck().all() as string[];
  }

  async pruneCandidates(options: {
    before?: number;
    maxTotalBytes?: number;
  }): Promise<{ id: string; sizeBytes: number }[]> {
    const { totalBytes } = await this.stats();
    const rows = this.db
      .prepare(
        'SELECT id, size_bytes AS sizeBytes, uploaded_at AS uploadedAt FROM profiles ORDER BY uploaded_at ASC, seq ASC',
      )
      .iterate() as IterableIterator<{ id: string; sizeBytes: number; uploadedAt: number }>;
    let remaining = totalBytes;
    const chosen: { id: string; sizeBytes: number }[] = [];
    for (const row of rows) {
      const tooOld = options.before !== undefined && row.uploadedAt < options.before;
      const tooBig = options.maxTotalBytes !== undefined && remaining > options.maxTotalBytes;
      if (!tooOld && !tooBig) break; // rows are oldest first: nothing later qualifies
      chosen.push({ id: row.id, sizeBytes: row.sizeBytes });
      remaining -= row.sizeBytes;
    }
    return chosen;
  }

  async stats(): Promise<{ count: number; totalBytes: number }> {
    return { ...this.totals };
  }

  async close(): Promise<void> {
    if (this.queued.length) this.flush(); // rows already promised a commit
    if (this.db.open) this.db.close();
  }
}
