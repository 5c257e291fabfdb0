import {POSTGRES_SEARCH_INDEX, SQLITE_SEARCH_INDEX, type SqlSearchIndex} from './search-sql.js'

/**
 * What differs between the SQL databases synapse stores sessions in. The shared adapter
 * (sql-adapter.ts) builds every statement once per store from these pieces; nothing in it asks which
 * database it is on, and no statement is rewritten after it is built.
 */
export interface SqlDialect {
  /**
   * Appended to every comparison and ordering of session ids, so that they compare byte by byte:
   * ULID order, and "[" right after "Z" for the prefix range. '' where ids already compare so.
   */
  readonly byteOrder: string
  /**
   * Appended to the SELECT that checks a session exists before a write, to lock its row until the
   * transaction ends ('' where the transaction's write lock already covers it).
   */
  readonly lockRow: string
  /** Which database: for messages only. */
  readonly name: string
  /** The n-th (1-based) parameter placeholder of a statement. */
  placeholder(n: number): string
  /**
   * Statements run at the start of a prune's write transaction, so that no session changes between
   * being chosen and being deleted (an append makes an old session new).
   */
  readonly pruneLocks: readonly string[]
  /** The full-text index `search` matches with (search-sql.ts). */
  readonly search: SqlSearchIndex
}

/**
 * SQLite compares text byte by byte and its write transactions (BEGIN IMMEDIATE, see SqliteExecutor)
 * hold the database's only write lock from the first statement: no row or table locks needed.
 */
export const SQLITE_DIALECT: SqlDialect = {
  byteOrder: '',
  lockRow: '',
  name: 'sqlite',
  placeholder: () => '?',
  pruneLocks: [],
  search: SQLITE_SEARCH_INDEX,
}

/**
 * PostgreSQL compares text in the database's collation, which need not be byte order (ICU and most
 * libc locales sort "[" before the letters, Danish sorts "AA" after "Z"): ids are compared
 * `COLLATE "C"`, unless their column's collation is byte order already (`idsInByteOrder`), where the
 * clause would change no result but hide the primary key from the planner. Writers lock the
 * session's row (FOR UPDATE) so that writers of one session queue; a prune takes an EXCLUSIVE table
 * lock: writers wait for it, readers go on.
 */
export function postgresDialect(options: {idsInByteOrder: boolean}): SqlDialect {
  return {
    byteOrder: options.idsInByteOrder ? '' : ' COLLATE "C"',
    lockRow: ' FOR UPDATE',
    name: 'postgres',
    placeholder: n => `$${n}`,
    pruneLocks: ['LOCK TABLE sessions IN EXCLUSIVE MODE'],
    search: POSTGRES_SEARCH_INDEX,
  }
}
