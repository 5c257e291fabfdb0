import {accessSync, closeSync, constants, existsSync, openSync, statfsSync} from 'node:fs'
import {dirname} from 'node:path'

import {SynapseError} from '../../core/errors.js'

export type Row = Record<string, unknown>

/**
 * How the SQL adapter talks to its database. The adapter builds its statements for the database's
 * dialect (sql-dialect.ts); an executor runs them as they are and owns the write lock.
 */
export interface SqlExecutor {
  /** Rows of a query, in the order the query gives. */
  all(sql: string, params?: unknown[]): Promise<Row[]>
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>
  /**
   * Runs `work` in one transaction that commits when `work` resolves and rolls back when it throws,
   * safe against writers in this process and others. SQLite takes the database's write lock with the
   * first statement, so read-then-write work never fails to upgrade its lock; PostgreSQL relies on
   * the row and table locks the store takes, and re-runs `work` after a deadlock or serialization
   * failure, so `work` must be safe to run again.
   */
  writeTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>
}

/** The part of a better-sqlite3 Database this module uses. */
export interface SqliteConnection {
  exec(sql: string): unknown
  inTransaction: boolean
  name: string
  pragma(source: string, options?: {simple?: boolean}): unknown
  prepare(sql: string): SqliteStatement
}

interface SqliteStatement {
  all(...params: unknown[]): Row[]
  reader: boolean
  run(...params: unknown[]): {changes: number}
}

/**
 * SQLite through the better-sqlite3 connection that TypeORM's DataSource opened. Statements are
 * prepared once and reused: the hot paths (append, load, list) cost what raw prepared statements
 * cost, instead of TypeORM's per-query bookkeeping.
 *
 * better-sqlite3 is synchronous, but the port is asynchronous, so two write transactions from one
 * process could otherwise interleave across an `await` on the one connection; a promise chain
 * serialises them. Across processes, `BEGIN IMMEDIATE` takes the write lock up front and waits out
 * the busy timeout instead of failing later with SQLITE_BUSY_SNAPSHOT.
 */
export class SqliteExecutor implements SqlExecutor {
  private readonly statements = new Map<string, SqliteStatement>()
  private tail: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly db: SqliteConnection,
    private readonly describeError: (error: unknown) => unknown = error => error,
  ) {}

  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return this.statement(sql).all(...params)
    } catch (error) {
      throw this.describeError(error)
    }
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    try {
      return this.statement(sql).run(...params).changes
    } catch (error) {
      throw this.describeError(error)
    }
  }

  writeTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const result = this.tail.then(() => this.runLocked(work))
    this.tail = result.catch(() => undefined)
    return result
  }

  private async runLocked<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    try {
      this.statement('BEGIN IMMEDIATE').run()
    } catch (error) {
      throw this.describeError(error)
    }
    try {
      const value = await work(this)
      this.statement('COMMIT').run()
      return value
    } catch (error) {
      if (this.db.inTransaction) this.statement('ROLLBACK').run()
      throw this.describeError(error)
    }
  }

  private statement(sql: string): SqliteStatement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }
}

/** SQLite's error codes, as better-sqlite3 reports them, turned into errors a user can act on. */
export function describeSqliteError(error: unknown, path: string, busyTimeoutMs: number): unknown {
  if (error instanceof SynapseError) return error
  const where = path === ':memory:' ? 'in memory' : `at ${path}`
  const code = (error as {code?: string}).code ?? ''
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new SynapseError('STORAGE_BUSY', `The session database ${where} stayed locked by another process for ${busyTimeoutMs / 1000} s.`, {
      cause: error,
      suggestions: ['Try again; if it keeps happening, look for a synapse process that is stuck (ps aux | grep synapse).'],
    })
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new SynapseError('STORAGE_UNAVAILABLE', `The session database ${where} is read-only.`, {
      cause: error,
      suggestions: ['Check the permissions of the file and its directory, or point DATABASE_URL at a writable file.'],
    })
  }
  // SQLite's codes for these say what failed (opening the -shm file, growing it), not why; the file
  // system can tell a read-only mount or a full disk apart.
  const problem =
    code === 'SQLITE_FULL' || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY')
      ? fileSystemProblem(path)
      : undefined
  if (problem === 'read-only') {
    return new SynapseError('STORAGE_UNAVAILABLE', `The session database ${where} is on a read-only file system (${code}).`, {
      cause: error,
      suggestions: ['Remount it read-write, or point DATABASE_URL at a file on a writable disk.'],
    })
  }
  if (code === 'SQLITE_FULL' || problem === 'full') {
    return new SynapseError('STORAGE_UNAVAILABLE', `The disk holding the session database ${where} is full${code === 'SQLITE_FULL' ? '' : ` (${code})`}.`, {
      cause: error,
      suggestions: ['Free some space, or prune old sessions with "synapse sessions prune".'],
    })
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')) {
    return new SynapseError('STORAGE_UNAVAILABLE', `The session database ${where} cannot be opened or written (${code}).`, {
      cause: error,
      suggestions: ['Check that the directory exists and is writable, or set DATABASE_URL to another file.'],
    })
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new SynapseError('STORAGE_UNAVAILABLE', `The file ${path} is not a readable SQLite database (${code}).`, {
      cause: error,
      suggestions: ['Run "synapse db check"; restore a backup made with "synapse db backup", or move the file away to start afresh.'],
    })
  }
  return error
}

/** Why a file system refuses writes beside `path`, when it is one of the two a user can fix. */
function fileSystemProblem(path: string): 'full' | 'read-only' | undefined {
  if (path === ':memory:') return undefined
  const directory = dirname(path)
  try {
    // Opening for writing changes nothing, and, unlike access(2) (and Deno's emulation of it), a
    // read-only mount answers it with EROFS.
    if (existsSync(path)) closeSync(openSync(path, 'r+'))
    else accessSync(directory, constants.W_OK)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only' : undefined
  }
  try {
    const {bavail, bsize} = statfsSync(directory)
    // Less than one 32 KiB page of shared memory, SQLite's smallest growth of the -shm file.
    return bavail * bsize < 32_768 ? 'full' : undefined
  } catch {
    return undefined
  }
}
