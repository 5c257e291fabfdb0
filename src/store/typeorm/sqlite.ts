import 'reflect-metadata'
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {pipeline} from 'node:stream/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {DataSource} from 'typeorm'

import {isStream, outputTargetOf} from '../../core/atomic-write.js'
import {ConfigError, describePathFailure, StorageUnavailableError, SynapseError} from '../../core/errors.js'
import {ENTITIES} from '../../entities/index.js'
import {MIGRATIONS} from '../../migrations/index.js'
import type {IntegrityReport, StoreOptions} from '../session-store.js'
import {SessionStore} from '../store.js'
import {SchemaMaintenance} from './maintenance.js'
import {SqlStorageAdapter} from './sql-adapter.js'
import {SQLITE_DIALECT} from './sql-dialect.js'
import {describeSqliteError, type SqliteConnection, SqliteExecutor} from './sql-executor.js'

export const MEMORY_DATABASE = ':memory:'

export interface SqliteStoreOptions extends StoreOptions {
  /** How long a write waits for another process's write lock before giving up. Default 5000 ms. */
  busyTimeoutMs?: number
  /** Apply pending migrations on open (default). The `db` commands open without, to manage them. */
  migrate?: boolean
  /** A file path, or ":memory:". */
  path: string
  /**
   * Open an existing database for reading only, without TypeORM, migrations or any change to the
   * file: what a continued chat needs when the database cannot be written. See openSqliteReader.
   */
  readOnly?: boolean
}

/**
 * Opens (creating if needed) a SQLite session database: the directory 0700, the file and its -wal and
 * -shm companions 0600 (SQLite gives those the database file's mode), WAL journaling so readers never
 * block the writer, and a busy timeout so concurrent writers queue instead of failing.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SessionStore> {
  return new SessionStore(await (options.readOnly ? openSqliteReader(options) : openSqliteAdapter(options)), {clock: options.clock})
}

/** The storage adapter under `openSqliteStore` (read-write): what the conformance suite runs bare. */
export async function openSqliteAdapter(options: Omit<SqliteStoreOptions, 'clock' | 'readOnly'>): Promise<SqlStorageAdapter> {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  const inMemory = options.path === MEMORY_DATABASE
  const path = inMemory ? MEMORY_DATABASE : resolve(options.path)
  const describe = (error: unknown) => describeSqliteError(error, path, busyTimeoutMs)
  if (!inMemory) prepareFile(path, describe)

  const dataSource = new DataSource({
    database: path,
    enableWAL: !inMemory,
    entities: ENTITIES,
    logging: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    // TypeORM calls this before it switches the file to WAL: another program's database is refused
    // while it is still exactly as that program left it.
    prepareDatabase: (db: SqliteConnection) => {
      if (!inMemory) {
        checkSynapseDatabase(db, path)
        tightenMode(path)
      }
      // NORMAL is what SQLite recommends with WAL: a commit survives the process being killed; only
      // a power cut can lose the last commits, never corrupt the file.
      db.pragma('synchronous = NORMAL')
    },
    synchronize: false,
    timeout: busyTimeoutMs,
    type: 'better-sqlite3',
  })
  try {
    await dataSource.initialize()
  } catch (error) {
    throw describe(error)
  }
  const db = (dataSource.driver as unknown as {databaseConnection: SqliteConnection}).databaseConnection
  const maintenance = new SqliteMaintenance(dataSource, db, path, describe)
  try {
    if ((options.migrate ?? true) && !migrationsUpToDate(db)) await maintenance.migrate()
  } catch (error) {
    await dataSource.destroy()
    throw error
  }
  return new SqlStorageAdapter({backend: 'sqlite', dataSource, dialect: SQLITE_DIALECT, executor: new SqliteExecutor(db, describe), maintenance})
}

function prepareFile(path: string, describe: (error: unknown) => unknown): void {
  const cannot = (error: unknown, what: string) =>
    new StorageUnavailableError(`Cannot create the session database at ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}${what}).`, {
      cause: describe(error),
      suggestions: ['Check that the directory is writable, or set DATABASE_URL to a file in a writable directory.'],
    })
  try {
    mkdirSync(dirname(path), {mode: 0o700, recursive: true})
  } catch (error) {
    // EEXIST from a recursive mkdir means a file stands where a directory should.
    throw cannot(error, (error as NodeJS.ErrnoException).code === 'EEXIST' ? ': a file is in the way' : '')
  }
  try {
    if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600))
  } catch (error) {
    // Another process creating the same file first is fine.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(error, '')
  }
}

/**
 * A history file is its owner's alone, whatever umask made it; the owner's own bits (a file made
 * read-only on purpose) are left as they are. Done before the -wal and -shm exist, which SQLite
 * creates with the database's mode.
 */
function tightenMode(path: string): void {
  try {
    const {mode} = statSync(path)
    if ((mode & 0o077) !== 0) chmodSync(path, mode & 0o700)
  } catch (error) {
    throw new StorageUnavailableError(`Cannot make the session database at ${path} private (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, {
      cause: error,
      suggestions: ['Check that you own the file and that its file system is writable, or point DATABASE_URL at another file.'],
    })
  }
}

const KNOWN_MIGRATIONS = new Set<string>(MIGRATIONS.map(m => m.name))

/**
 * True when the migrations table names exactly this version's migrations, each once: nothing to
 * apply and nothing from a newer synapse, which is what most opens find. One query on the open
 * connection (~0.1 ms) instead of TypeORM's migration check (its query runner, the table's existence
 * through sqlite_master, a query builder: ~3 ms of every command); anything else, a missing table
 * included, goes through that check, which applies, creates or refuses as before.
 */
export function migrationsUpToDate(db: SqliteConnection): boolean {
  try {
    const applied = new Set(
      db
        .prepare('SELECT name FROM migrations')
        .all()
        .map(row => String(row.name)),
    )
    return applied.size === KNOWN_MIGRATIONS.size && [...KNOWN_MIGRATIONS].every(name => applied.has(name))
  } catch {
    return false
  }
}

/**
 * Throws unless the database is empty or synapse's: a `migrations` table that names synapse's
 * migrations (or stands alone, everything reverted). Anything else is another program's file, which
 * synapse must neither migrate nor switch to WAL. Reads only.
 */
export function checkSynapseDatabase(db: SqliteConnection, path: string): void {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .all()
    .map(row => String(row.name))
  if (tables.length === 0) return
  if (tables.includes('migrations')) {
    if (tables.length === 1) return
    try {
      const applied = db.prepare('SELECT name FROM migrations').all()
      if (applied.some(row => KNOWN_MIGRATIONS.has(String(row.name)))) return
    } catch {
      // A migrations table without a name column is not TypeORM's, so not ours.
    }
  }
  // A setting that names the wrong file, not a fault of the moment: CONFIG_INVALID, which no command
  // works around.
  throw new ConfigError(
    `The file ${path} is a SQLite database of another program (tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}); synapse left it unchanged.`,
    {
      suggestions: ['Point DATABASE_URL or [storage] url at a file of its own, or unset it to use the default file.'],
    },
  )
}

/** SQLite's codes for "the -shm file cannot be created, grown or initialised". */
const NO_SHARED_MEMORY = /^SQLITE_(CANTOPEN|IOERR_SHM|READONLY_(CANTINIT|CANTLOCK|RECOVERY))/

/**
 * Opens an existing session database for reading only, when it cannot be written: locked by
 * another process, on a read-only file system, on a full disk. Nothing is created or changed.
 * SQLite can read a WAL database read-only only through its -shm file; where that cannot be made
 * (a read-only mount without one, a disk too full to grow it), the database is read into memory
 * instead, which is exact as long as no -wal file holds commits not yet in the database.
 */
async function openSqliteReader(options: SqliteStoreOptions): Promise<SqlStorageAdapter> {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  if (options.path === MEMORY_DATABASE) throw new StorageUnavailableError('An in-memory database cannot be opened for reading only.')
  const path = resolve(options.path)
  const describe = (error: unknown) => describeSqliteError(error, path, busyTimeoutMs)
  const {default: Database} = await import('better-sqlite3')
  let db: InstanceType<typeof Database> | undefined
  try {
    db = new Database(path, {fileMustExist: true, readonly: true, timeout: busyTimeoutMs})
    checkSynapseDatabase(db, path)
  } catch (error) {
    db?.close()
    const code = (error as {code?: string}).code ?? ''
    if (!NO_SHARED_MEMORY.test(code) || !existsSync(path) || hasUncheckpointedWal(path)) throw describe(error)
    try {
      const image = readFileSync(path)
      // Bytes 18 and 19 say "WAL"; an image in memory has no WAL, and SQLite refuses to open it so.
      if (image.length > 19 && image[18] === 2) image[18] = image[19] = 1
      db = new Database(image, {readonly: true})
      checkSynapseDatabase(db, path)
    } catch (snapshotError) {
      throw describe(snapshotError instanceof SynapseError ? snapshotError : error)
    }
  }
  const connection = db
  const close = () => {
    connection.close()
  }
  return new SqlStorageAdapter({backend: 'sqlite', dialect: SQLITE_DIALECT, executor: new SqliteExecutor(connection, describe), onClose: close})
}

function hasUncheckpointedWal(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 0
  } catch {
    return false
  }
}

/** A private directory beside `target`; a missing or unwritable directory is one line naming it. */
function makeStagingDir(target: string): string {
  try {
    return mkdtempSync(join(dirname(target), `.${basename(target)}.`))
  } catch (error) {
    throw new SynapseError('INVALID_INPUT', describePathFailure(error, target, 'back up to'), {
      exitCode: 1,
      suggestions: ['Choose a file in a directory that exists and that you can write.'],
    })
  }
}

/**
 * Whether `target` names the database at `location` or a file SQLite keeps beside it, in any
 * spelling of its directory: a backup renamed there would put a copy where other processes are still
 * writing. A link as the target has been followed already (outputTargetOf); a link as the
 * database's location is compared by its real file too.
 */
function isDatabaseFile(target: string, location: string): boolean {
  const named = (path: string) => {
    try {
      return join(realpathSync(dirname(path)), basename(path))
    } catch {
      return resolve(path)
    }
  }
  const databases = [named(location)]
  try {
    databases.push(realpathSync(location))
  } catch {
    // No file yet: its name is all there is.
  }
  const candidate = named(target)
  return databases.some(database => ['', '-wal', '-shm', '-journal'].some(suffix => database + suffix === candidate))
}

/** Migrations, checks and backups of one SQLite database. */
export class SqliteMaintenance extends SchemaMaintenance {
  constructor(
    dataSource: DataSource,
    private readonly db: SqliteConnection,
    location: string,
    describe: (error: unknown) => unknown,
  ) {
    super(dataSource, location, describe, 'another database')
  }

  async backup(file: string, options: {replace?: boolean} = {}): Promise<{bytes: number; path: string}> {
    if (this.location === MEMORY_DATABASE) throw new StorageUnavailableError('An in-memory database cannot be backed up.')
    const target = outputTargetOf(file)
    if (isDatabaseFile(target, this.location)) {
      // Renamed over the live file (or its -wal), the copy would take the place of what other processes are still writing to.
      throw new SynapseError('INVALID_INPUT', `${target} is the database being backed up.`, {
        exitCode: 1,
        suggestions: ['Back up to a file of its own, e.g. "synapse db backup ~/sessions.bak".'],
      })
    }
    if (existsSync(target) && statSync(target).isDirectory()) {
      throw new SynapseError('INVALID_INPUT', `${target} is a directory.`, {
        exitCode: 1,
        suggestions: [`Name a file in it, e.g. "synapse db backup ${join(target, 'sessions.bak')}".`],
      })
    }
    // A stream has nothing for --force to replace.
    if (isStream(target)) return this.backupInto(target)
    if (existsSync(target) && !options.replace) {
      throw new SynapseError('INVALID_INPUT', `${target} already exists.`, {
        exitCode: 1,
        suggestions: ['Choose a new file name, or add --force to replace it.'],
      })
    }
    // VACUUM INTO copies one read snapshot, so writers elsewhere neither block it nor tear it. It is
    // written into a private directory and renamed, so the copy is never readable by others, not even
    // for a moment, and a failed backup leaves nothing at the target.
    const staging = makeStagingDir(target)
    try {
      const temporary = this.snapshotInto(staging)
      renameSync(temporary, target)
      return {bytes: statSync(target).size, path: target}
    } finally {
      rmSync(staging, {force: true, recursive: true})
    }
  }

  /** The copy made in a private directory of the system's, then its bytes written into the stream `target`. */
  private async backupInto(target: string): Promise<{bytes: number; path: string}> {
    const staging = mkdtempSync(join(tmpdir(), 'synapse-backup-'))
    try {
      const temporary = this.snapshotInto(staging)
      try {
        await pipeline(createReadStream(temporary), createWriteStream(target))
      } catch (error) {
        throw new SynapseError('INVALID_INPUT', describePathFailure(error, target, 'back up to'), {exitCode: 1})
      }
      return {bytes: statSync(temporary).size, path: target}
    } finally {
      rmSync(staging, {force: true, recursive: true})
    }
  }

  /** One consistent copy of the database, 0600, in `dir`; returns its path. */
  private snapshotInto(dir: string): string {
    const temporary = join(dir, 'backup.db')
    try {
      this.db.prepare('VACUUM INTO ?').run(temporary)
    } catch (error) {
      throw this.describe(error)
    }
    chmodSync(temporary, 0o600)
    return temporary
  }

  async check(): Promise<IntegrityReport> {
    const checks: IntegrityReport['checks'] = []
    const integrity = (this.db.pragma('integrity_check') as Array<{integrity_check: string}>).map(row => row.integrity_check)
    checks.push({detail: integrity.join('; '), name: 'integrity', ok: integrity.length === 1 && integrity[0] === 'ok'})
    const orphans = this.db.pragma('foreign_key_check') as unknown[]
    checks.push({
      detail: orphans.length === 0 ? 'no orphaned rows' : `${orphans.length} rows point at missing parents`,
      name: 'foreign keys',
      ok: orphans.length === 0,
    })
    checks.push(...(await this.migrationChecks()))
    return {checks, ok: checks.every(c => c.ok)}
  }

  /**
   * Schema changes in one IMMEDIATE transaction: a second process opening a fresh database waits for
   * the first to finish instead of creating the same tables again. Foreign keys go off first (SQLite
   * ignores the pragma inside a transaction) so that rebuilding a parent table cannot cascade-delete
   * its children, and are checked before the commit. The one connection is TypeORM's too, so its
   * migrations run inside this transaction.
   */
  protected async underSchemaLock<T>(work: () => Promise<T>): Promise<T> {
    this.db.pragma('foreign_keys = OFF')
    try {
      try {
        this.db.exec('BEGIN IMMEDIATE')
      } catch (error) {
        throw this.describe(error)
      }
      try {
        const result = await work()
        const orphans = this.db.pragma('foreign_key_check') as unknown[]
        if (orphans.length > 0) throw new SynapseError('MIGRATION_FAILED', `The migration would leave ${orphans.length} orphaned rows; nothing was changed.`)
        this.db.exec('COMMIT')
        return result
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        throw this.migrationFailure(error)
      }
    } finally {
      this.db.pragma('foreign_keys = ON')
    }
  }
}
