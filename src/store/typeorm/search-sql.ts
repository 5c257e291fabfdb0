import {SynapseError} from '../../core/errors.js'
import type {SearchQuery, SearchTerm} from '../search.js'
import type {IntegrityCheck} from '../session-store.js'
import type {Row} from './sql-executor.js'

/** Runs one statement and gives its rows: a TypeORM QueryRunner's or DataSource's `query`. */
export type RunSql = (sql: string, params?: unknown[]) => Promise<unknown>

/**
 * Binds a value and gives its placeholder. Called in the order the placeholders stand in the
 * statement (SQLite's are positional): a fragment binds its score's values before its where's.
 */
export type Bind = (value: unknown) => string

/** The SQL of one way of matching: joined into the store's search statement by the shared adapter. */
export interface SearchFragments {
  /** What follows FROM: the table(s) to search, with `m` (messages) or `s` (sessions) in scope. */
  from: string
  /** The relevance of a row, higher first. */
  score: string
  /** The condition that the row matches the query. */
  where: string
}

/**
 * A database's full-text index over message content and session titles: how the migration
 * 1795300000020-AddSearchIndex creates and drops it, how a search matches and scores, and how
 * `db check` / `db reindex` check and rebuild it. One per database type (see `searchIndexFor`);
 * the shared adapter, the migration and the maintenance never ask which database they are on.
 */
export interface SqlSearchIndex {
  /** Checks that the index exists and is in step with the messages and titles. */
  check(run: RunSql): Promise<IntegrityCheck>
  /** Creates the index and fills it from the rows already there (the migration's up). */
  readonly create: readonly string[]
  /** Takes it away again, leaving the tables as they were (the migration's down). */
  readonly drop: readonly string[]
  /**
   * Where the index ranks on its own much faster than through the join (FTS5): the message source
   * narrowed to the `count` best-scoring matches, for a search that filters on nothing. The adapter
   * asks for more than its page reaches, and reads the page again without the narrowing when the
   * lowest score it got reaches into the page: a run of equal scores may go on past the cut, and
   * which of them are most recent (search.ts breaks ties by recency) only the join knows.
   */
  bestMessages?(bind: Bind, query: SearchQuery, count: number): SearchFragments
  /** Matching and scoring message content (`m`, joined to its session `s`). */
  messages(bind: Bind, query: SearchQuery): SearchFragments
  /**
   * Rebuilds the whole index from the tables, and whatever keeps it in step (`db reindex`); safe
   * to run at any time, in one transaction.
   */
  rebuild(run: RunSql): Promise<void>
  /**
   * Rebuilds the index when a later migration broke it (SQLite drops a table's triggers when a
   * migration rebuilds the table, and renumbers its rows): returns whether it did. Run after every
   * migration and revert that leaves the index installed.
   */
  repair(run: RunSql): Promise<boolean>
  /** Matching and scoring session titles (`s`). */
  titles(bind: Bind, query: SearchQuery): SearchFragments
}

const count = (rows: unknown) => Number((rows as Row[])[0]?.n ?? 0)
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`

// ---- SQLite: FTS5 ------------------------------------------------------------------------------

/**
 * unicode61 with the categories of the core's tokenizer (src/store/search.ts: letters, digits,
 * private use, combining marks) and no diacritic folding, which PostgreSQL's `simple` config does
 * not do either: "café" and "cafe" are different words on every backend.
 */
const FTS5_TOKENIZE = `tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"`

/** The FTS5 string for one term: each word is a quoted string (never syntax), a prefix ends in `*`. */
function fts5Term(term: SearchTerm): string {
  const text = term.kind === 'word' ? term.word : term.words.join(' ')
  return `"${text.replaceAll('"', '""')}"${term.prefix ? ' *' : ''}`
}

/** The FTS5 query for all terms (FTS5 joins terms with AND). */
export function fts5Query(query: SearchQuery): string {
  return query.terms.map(fts5Term).join(' ')
}

/** The triggers that keep the external-content FTS5 table `<table>_fts` in step with `column` of `table`. */
function fts5Triggers(table: 'messages' | 'sessions', column: 'content' | 'title'): string[] {
  const fts = `${table}_fts`
  const remove = `INSERT INTO ${fts} (${fts}, rowid, ${column}) VALUES ('delete', old.rowid, old.${column});`
  const add = `INSERT INTO ${fts} (rowid, ${column}) VALUES (new.rowid, new.${column});`
  return [
    `CREATE TRIGGER ${fts}_insert AFTER INSERT ON ${table} BEGIN ${add} END`,
    `CREATE TRIGGER ${fts}_delete AFTER DELETE ON ${table} BEGIN ${remove} END`,
    `CREATE TRIGGER ${fts}_update AFTER UPDATE OF ${column} ON ${table} BEGIN ${remove} ${add} END`,
  ]
}
const SQLITE_TRIGGERS = [...fts5Triggers('messages', 'content'), ...fts5Triggers('sessions', 'title')]
const SQLITE_TRIGGER_NAMES = SQLITE_TRIGGERS.map(sql => /CREATE TRIGGER (\w+)/.exec(sql)![1])
const SQLITE_REBUILD = ["INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')", "INSERT INTO sessions_fts (sessions_fts) VALUES ('rebuild')"]

async function sqliteTriggers(run: RunSql): Promise<string[]> {
  const rows = (await run(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN (${SQLITE_TRIGGER_NAMES.map(n => `'${n}'`).join(', ')})`)) as Row[]
  return rows.map(row => String(row.name))
}

export const SQLITE_SEARCH_INDEX: SqlSearchIndex = {
  async check(run) {
    const name = 'search index'
    const triggers = await sqliteTriggers(run)
    const missing = SQLITE_TRIGGER_NAMES.filter(n => !triggers.includes(n))
    // The index's own record of each document (its docsize row) against the table's rows, both ways.
    const unindexed = (await run(
      'SELECT m.id FROM messages m WHERE NOT EXISTS (SELECT 1 FROM messages_fts_docsize d WHERE d.id = m.rowid) ORDER BY m.rowid DESC LIMIT 3',
    )) as Row[]
    const unindexedCount = count(await run('SELECT COUNT(*) AS n FROM messages m WHERE NOT EXISTS (SELECT 1 FROM messages_fts_docsize d WHERE d.id = m.rowid)'))
    const stale = count(await run('SELECT COUNT(*) AS n FROM messages_fts_docsize d WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.rowid = d.id)'))
    const messages = count(await run('SELECT COUNT(*) AS n FROM messages'))
    // FTS5 compares every indexed word with the content table: what a changed row left behind.
    const contentMismatch: string[] = []
    for (const table of ['messages_fts', 'sessions_fts']) {
      try {
        await run(`INSERT INTO ${table} (${table}, rank) VALUES ('integrity-check', 1)`)
      } catch {
        contentMismatch.push(table === 'messages_fts' ? 'message contents' : 'session titles')
      }
    }
    const problems = [
      ...(missing.length > 0 ? [`triggers missing: ${missing.join(', ')}`] : []),
      ...(unindexedCount > 0 ? [`${plural(unindexedCount, 'message')} not indexed (e.g. ${unindexed.map(row => String(row.id)).join(', ')})`] : []),
      ...(stale > 0 ? [`${plural(stale, 'index entry', 'index entries')} for messages that are gone`] : []),
      ...(contentMismatch.length > 0 ? [`the index differs from the ${contentMismatch.join(' and ')}`] : []),
    ]
    if (problems.length === 0) return {detail: `${plural(messages, 'message')} indexed, in step`, name, ok: true}
    return {detail: `out of step: ${problems.join('; ')}. Rebuild it with "synapse db reindex".`, name, ok: false}
  },
  create: [
    `CREATE VIRTUAL TABLE messages_fts USING fts5(content, content = 'messages', content_rowid = 'rowid', ${FTS5_TOKENIZE})`,
    `CREATE VIRTUAL TABLE sessions_fts USING fts5(title, content = 'sessions', content_rowid = 'rowid', ${FTS5_TOKENIZE})`,
    ...SQLITE_TRIGGERS,
    ...SQLITE_REBUILD,
  ],
  // IF EXISTS: a table a later migration rebuilt has lost its triggers already.
  drop: [...SQLITE_TRIGGER_NAMES.map(n => `DROP TRIGGER IF EXISTS ${n}`), 'DROP TABLE IF EXISTS sessions_fts', 'DROP TABLE IF EXISTS messages_fts'],
  // bm25() is lower for better matches. (Not FTS5's rank column: it computes the same far more slowly.)
  bestMessages: (bind, query, count) => ({
    from: `(SELECT rowid AS hit_rowid, -bm25(messages_fts) AS hit_score FROM messages_fts WHERE messages_fts MATCH ${bind(fts5Query(query))}
             ORDER BY hit_score DESC LIMIT ${bind(count)}) f
           JOIN messages m ON m.rowid = f.hit_rowid JOIN sessions s ON s.id = m.session_id`,
    score: 'f.hit_score',
    where: '1 = 1',
  }),
  messages: (bind, query) => ({
    from: 'messages_fts JOIN messages m ON m.rowid = messages_fts.rowid JOIN sessions s ON s.id = m.session_id',
    score: '-bm25(messages_fts)',
    where: `messages_fts MATCH ${bind(fts5Query(query))}`,
  }),
  async rebuild(run) {
    // The triggers too: one dropped by hand, or with a table a migration rebuilt, comes back.
    for (const name of await sqliteTriggers(run)) await run(`DROP TRIGGER ${name}`)
    for (const sql of [...SQLITE_TRIGGERS, ...SQLITE_REBUILD]) await run(sql)
  },
  async repair(run) {
    // A rebuilt table lost its triggers and may have new rowids: the whole index is rebuilt.
    if ((await sqliteTriggers(run)).length === SQLITE_TRIGGER_NAMES.length) return false
    await this.rebuild(run)
    return true
  },
  titles: (bind, query) => ({
    from: 'sessions_fts JOIN sessions s ON s.rowid = sessions_fts.rowid',
    score: '-bm25(sessions_fts)',
    where: `sessions_fts MATCH ${bind(fts5Query(query))}`,
  }),
}

// ---- PostgreSQL: tsvector with GIN -------------------------------------------------------------

/**
 * How PostgreSQL reads a text into words for the index: the `simple` configuration (lower case,
 * no stemming, no stop words, as FTS5 and the core match), after every run of punctuation and
 * white space has become one space, so that the parser's e-mail, URL, host and file-path tokens
 * ("src/store.ts" as one word) split into words as FTS5 splits them. Only the first 200,000
 * characters of a message are indexed: a tsvector holds at most 1 MB, and a longer one would make
 * the insert fail. The search's WHERE repeats this expression exactly, or the planner would not
 * use the index.
 */
function pgVector(column: string): string {
  return `to_tsvector('simple'::regconfig, regexp_replace(left(coalesce(${column}, ''), 200000), '[[:punct:][:space:]]+', ' ', 'g'))`
}

/** One term as tsquery text: each word a quoted lexeme (never an operator), `:*` for a prefix, `<->` between the words of a phrase. */
function tsqueryTerm(term: SearchTerm): string {
  const lexeme = (word: string, prefix: boolean) => `'${word.replaceAll('\\', '\\\\').replaceAll("'", "''")}'${prefix ? ':*' : ''}`
  if (term.kind === 'word') return lexeme(term.word, term.prefix)
  return `(${term.words.map((w, i) => lexeme(w, term.prefix && i === term.words.length - 1)).join(' <-> ')})`
}

export function tsquery(query: SearchQuery): string {
  return query.terms.map(tsqueryTerm).join(' & ')
}

const PG_INDEXES = [
  {column: 'content', name: 'idx_messages_search', table: 'messages'},
  {column: 'title', name: 'idx_sessions_search', table: 'sessions'},
]

export const POSTGRES_SEARCH_INDEX: SqlSearchIndex = {
  async check(run) {
    const rows = (await run(
      `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relname IN (${PG_INDEXES.map(i => `'${i.name}'`).join(', ')})`,
    )) as Row[]
    const missing = PG_INDEXES.filter(i => !rows.some(row => row.name === i.name)).map(i => i.name)
    const invalid = rows.filter(row => row.valid !== true).map(row => String(row.name))
    const name = 'search index'
    if (missing.length === 0 && invalid.length === 0) {
      // PostgreSQL updates an expression index with its rows: it cannot fall out of step, only go missing or invalid.
      return {detail: `${plural(count(await run('SELECT COUNT(*) AS n FROM messages')), 'message')} indexed (GIN, kept by PostgreSQL)`, name, ok: true}
    }
    const problems = [...(missing.length > 0 ? [`missing: ${missing.join(', ')}`] : []), ...(invalid.length > 0 ? [`invalid: ${invalid.join(', ')}`] : [])]
    return {detail: `${problems.join('; ')}. Rebuild it with "synapse db reindex".`, name, ok: false}
  },
  create: PG_INDEXES.map(i => `CREATE INDEX ${i.name} ON ${i.table} USING gin (${pgVector(i.column)})`),
  drop: PG_INDEXES.map(i => `DROP INDEX ${i.name}`),
  messages: (bind, query) => ({
    from: 'messages m JOIN sessions s ON s.id = m.session_id',
    score: `ts_rank(${pgVector('m.content')}, to_tsquery('simple'::regconfig, ${bind(tsquery(query))}))`,
    where: `${pgVector('m.content')} @@ to_tsquery('simple'::regconfig, ${bind(tsquery(query))})`,
  }),
  async rebuild(run) {
    // A missing index (dropped by hand) is made again; an existing one is rebuilt in place.
    for (const i of PG_INDEXES) await run(`CREATE INDEX IF NOT EXISTS ${i.name} ON ${i.table} USING gin (${pgVector(i.column)})`)
    for (const i of PG_INDEXES) await run(`REINDEX INDEX ${i.name}`)
  },
  async repair() {
    // PostgreSQL keeps an index through ALTER TABLE: nothing a migration does leaves it behind.
    return false
  },
  titles: (bind, query) => ({
    from: 'sessions s',
    score: `ts_rank(${pgVector('s.title')}, to_tsquery('simple'::regconfig, ${bind(tsquery(query))}))`,
    where: `${pgVector('s.title')} @@ to_tsquery('simple'::regconfig, ${bind(tsquery(query))})`,
  }),
}

/** The full-text index of a database type, as TypeORM names it (`DataSource.options.type`). */
export function searchIndexFor(type: string): SqlSearchIndex {
  const index = ({'better-sqlite3': SQLITE_SEARCH_INDEX, postgres: POSTGRES_SEARCH_INDEX} as Record<string, SqlSearchIndex>)[type]
  if (!index) throw new SynapseError('MIGRATION_FAILED', `synapse has no full-text index for ${type} databases.`)
  return index
}
