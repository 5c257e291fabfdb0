import {createHash} from 'node:crypto'
import pg from 'pg'
import {type IntegrityReport, SessionStore, type StoreOptions, SynapseError, scrubSecret} from 'synapse-cli'
import {DataSource, ENTITIES, MIGRATIONS, postgresDialect, type QueryRunner, SchemaMaintenance, SqlStorageAdapter} from 'synapse-cli/typeorm'

import {describePostgresError, driverErrorOf} from './errors.js'
import {PostgresExecutor} from './postgres-executor.js'
import {postgresTarget, type PostgresTarget} from './target.js'

export interface PostgresStoreOptions extends StoreOptions {
  /** How long a write waits for a row another process has locked before STORAGE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number
  /** Default 10 s, or the URL's `connect_timeout` (seconds). */
  connectTimeoutMs?: number
  /** Apply pending migrations on open (default). The `db` commands open without, to manage them. */
  migrate?: boolean
  /** The schema that holds synapse's tables; wins over `?schema=` in the URL. Created when missing. */
  schema?: string
  /** postgres://user:password@host:5432/database[?schema=name&sslmode=...] */
  url: string
}

/** How long a migration waits for another process's migration, or for the tables it changes. */
const MIGRATION_LOCK_TIMEOUT_S = 60

/**
 * Opens a session store on PostgreSQL: the same entities, migrations and queries as SQLite, on a
 * connection pool. Pending migrations are applied on open (unless `migrate: false`), by exactly one
 * of any number of processes opening the same fresh schema at once.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<SessionStore> {
  return new SessionStore(await openPostgresAdapter(options), {clock: options.clock})
}

/** The storage adapter under `openPostgresStore`: what the conformance suite runs bare. */
export async function openPostgresAdapter(options: Omit<PostgresStoreOptions, 'clock'>): Promise<SqlStorageAdapter> {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  const target = postgresTarget(options.url, {connectTimeoutMs: options.connectTimeoutMs, lockTimeoutMs: busyTimeoutMs, schema: options.schema})
  const describe = (error: unknown) => describePostgresError(error, target, busyTimeoutMs)
  const dataSource = new DataSource({
    applicationName: 'synapse',
    connectTimeoutMS: target.connectTimeoutMs,
    // pg is this plugin's dependency, not core's: hand it over rather than let TypeORM require it.
    driver: pg,
    entities: ENTITIES,
    installExtensions: false,
    logging: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    poolErrorHandler: () => undefined,
    schema: target.schema,
    synchronize: false,
    type: 'postgres',
    url: target.connectionUrl,
  })
  try {
    await dataSource.initialize()
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined)
    throw unavailableUnlessDescribed(describe(error), target)
  }
  const maintenance = new PostgresMaintenance(dataSource, target, describe)
  try {
    if (options.migrate ?? true) await maintenance.migrate()
  } catch (error) {
    await dataSource.destroy().catch(() => undefined)
    throw error
  }
  let idsInByteOrder: boolean
  try {
    idsInByteOrder = await idsCompareBytewise(dataSource, maintenance.schema)
  } catch (error) {
    await dataSource.destroy().catch(() => undefined)
    throw describe(error)
  }
  return new SqlStorageAdapter({
    backend: 'postgres',
    dataSource,
    dialect: postgresDialect({idsInByteOrder}),
    executor: new PostgresExecutor(dataSource, describe),
    maintenance,
  })
}

/** Collations that order ASCII byte by byte: C and POSIX, C.UTF-8 (code point order), ucs_basic. */
const BYTE_ORDER_COLLATION = /^(c|posix|c\.utf-?8|ucs_basic|pg_c_utf8)$/i

/**
 * Whether `schema`.sessions.id compares byte by byte: its own collation, or else the database's
 * default (ICU defaults never do; libc ones only for the names above; the builtin provider's do).
 * False while the table does not exist.
 */
export async function idsCompareBytewise(dataSource: DataSource, schema: string): Promise<boolean> {
  const rows = (await dataSource.query(
    `SELECT c.collation_name AS column_collation, d.datcollate AS database_collation, to_jsonb(d) ->> 'datlocprovider' AS provider
       FROM information_schema.columns c CROSS JOIN pg_database d
      WHERE c.table_schema = $1 AND c.table_name = 'sessions' AND c.column_name = 'id' AND d.datname = current_database()`,
    [schema],
  )) as Array<{column_collation: null | string; database_collation: string; provider: null | string}>
  if (rows.length === 0) return false
  const [{column_collation: column, database_collation: database, provider}] = rows
  if (column !== null) return BYTE_ORDER_COLLATION.test(column)
  if (provider === 'i') return false
  if (provider === 'b') return true
  return BYTE_ORDER_COLLATION.test(database)
}

/** Whatever stopped the first connection is a storage failure, in one line, without the password. */
function unavailableUnlessDescribed(error: unknown, target: PostgresTarget): unknown {
  if (error instanceof SynapseError) return error
  const reason = String((error as Error)?.message ?? error).split('\n')[0]
  const scrubbed = scrubSecret(reason, target.password)
  return new SynapseError('STORAGE_UNAVAILABLE', `Cannot connect to PostgreSQL at ${target.location}: ${scrubbed}`, {
    cause: error,
    suggestions: ['Check the URL, and that the server is running and reachable.'],
  })
}

/** Migrations and checks of one PostgreSQL schema. */
export class PostgresMaintenance extends SchemaMaintenance {
  constructor(
    dataSource: DataSource,
    private readonly target: PostgresTarget,
    describe: (error: unknown) => unknown,
  ) {
    super(dataSource, target.location, describe, 'another database or schema')
  }

  async backup(): Promise<{bytes: number; path: string}> {
    const schema = this.schema
    throw new SynapseError('STORAGE_UNAVAILABLE', `synapse does not back up a PostgreSQL database itself (${this.location}).`, {
      suggestions: [
        `Use pg_dump, which takes a consistent snapshot while others write: pg_dump --format=custom --schema=${schema} --file=synapse.dump "<url>"`,
        'Restore it with pg_restore --dbname="<url>" synapse.dump',
      ],
    })
  }

  async check(): Promise<IntegrityReport> {
    const checks: IntegrityReport['checks'] = []
    const [{version}] = await this.query<{version: string}>("SELECT current_setting('server_version') AS version")
    checks.push({detail: `PostgreSQL ${version}, database ${this.dataSource.driver.database}, schema ${this.schema}`, name: 'connection', ok: true})
    const migrationChecks = await this.migrationChecks()
    checks.push(...migrationChecks)
    if (migrationChecks.find(c => c.name === 'migrations')?.ok) {
      // The foreign key makes orphans impossible, unless it was dropped or added NOT VALID by hand.
      const [{orphans}] = await this.query<{orphans: string}>(
        `SELECT COUNT(*) AS orphans FROM ${this.table('messages')} m WHERE NOT EXISTS (SELECT 1 FROM ${this.table('sessions')} s WHERE s.id = m.session_id)`,
      )
      const count = Number(orphans)
      checks.push({detail: count === 0 ? 'no orphaned rows' : `${count} rows point at missing parents`, name: 'foreign keys', ok: count === 0})
    }
    return {checks, ok: checks.every(c => c.ok)}
  }

  /** The schema the tables live in: the one asked for, or the connection's current schema. */
  get schema(): string {
    return this.target.schema ?? String(this.dataSource.driver.schema ?? 'public')
  }

  private async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.guard(() => this.dataSource.query(sql, params) as Promise<T[]>)
  }

  private table(name: string): string {
    return `"${this.schema}"."${name}"`
  }

  /**
   * Schema changes in one transaction that holds an advisory lock on this database and schema: a
   * second process opening a fresh schema waits for the first to commit, then finds nothing pending.
   * PostgreSQL's DDL is transactional, so a failed migration changes nothing. The lock goes with the
   * transaction, also when the process dies.
   */
  protected async underSchemaLock<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner('master')
    try {
      await runner.startTransaction()
      await runner.query(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT_S}s'`)
      await runner.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(`synapse migrations ${this.dataSource.driver.database} ${this.schema}`)])
      if (this.target.schema) {
        // Only when missing: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database
        // even when the schema is there, and a user given a schema by an administrator may lack it.
        const found = await runner.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.target.schema])
        if (found.length === 0) await runner.query(`CREATE SCHEMA "${this.target.schema}"`)
      }
      const result = await work(runner)
      await runner.commitTransaction()
      return result
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined)
      if (!(error instanceof SynapseError) && driverErrorOf(error).code === '55P03') {
        throw new SynapseError(
          'STORAGE_BUSY',
          `Another process kept the schema of ${this.location} locked for ${MIGRATION_LOCK_TIMEOUT_S} s; nothing was changed.`,
          {
            cause: error,
            suggestions: ['Try again once the other synapse (or whatever holds the tables) is done; pg_stat_activity shows who waits on whom.'],
          },
        )
      }
      throw this.migrationFailure(error)
    } finally {
      await runner.release()
    }
  }
}

/** A signed 64-bit advisory lock key, as a decimal string, for a name. */
function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString()
}
