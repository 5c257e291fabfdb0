import {type DataSource, MigrationExecutor, type QueryRunner} from 'typeorm'

import {SynapseError} from '../../core/errors.js'
import {SEARCH_INDEX_MIGRATION} from '../../migrations/1795300000020-AddSearchIndex.js'
import {MIGRATIONS} from '../../migrations/index.js'
import type {IntegrityCheck, IntegrityReport, MigrationState, StoreMaintenance} from '../session-store.js'
import {type RunSql, searchIndexFor} from './search-sql.js'

/**
 * What the `db` commands do on a TypeORM database, once for every SQL backend: list, apply and
 * revert migrations, and check that the schema is the one the entities describe. A backend says how
 * to hold its schema lock (`underSchemaLock`), what else to check, and how to back up.
 */
export abstract class SchemaMaintenance implements StoreMaintenance {
  constructor(
    protected readonly dataSource: DataSource,
    readonly location: string,
    protected readonly describe: (error: unknown) => unknown,
    /** What to tell a user whose database a newer synapse migrated: where else to point. */
    private readonly elsewhere: string,
  ) {}

  abstract backup(file: string, options?: {replace?: boolean}): Promise<{bytes: number; path: string}>

  abstract check(): Promise<IntegrityReport>

  async migrate(): Promise<string[]> {
    if (!(await this.migrations()).some(m => !m.applied)) return []
    return this.underSchemaLock(async runner => {
      const applied = (await this.executor(runner).executePendingMigrations()).map(m => m.name)
      await this.repairSearchIndex(runner)
      return applied
    })
  }

  /**
   * Rebuilds the full-text index from the messages and titles, in one transaction (readers go on
   * meanwhile), and reports it as `db check` would afterwards. Refused before its migration.
   */
  async reindex(): Promise<IntegrityCheck> {
    const index = searchIndexFor(this.dataSource.options.type)
    if (!(await this.searchIndexInstalled())) {
      throw new SynapseError('MIGRATION_FAILED', 'The session database has no search index yet.', {
        suggestions: ['Run "synapse db migrate": it creates the index and fills it.'],
      })
    }
    await this.underSchemaLock(async runner => index.rebuild(this.runner(runner)))
    return this.guard(() => index.check(this.runner()))
  }

  async migrations(): Promise<MigrationState[]> {
    const executed = await this.guard(() => new MigrationExecutor(this.dataSource).getExecutedMigrations())
    const known = new Set<string>(MIGRATIONS.map(m => m.name))
    const unknown = executed.filter(m => !known.has(m.name))
    if (unknown.length > 0) {
      throw new SynapseError('MIGRATION_FAILED', `The session database was migrated by a newer synapse (${unknown.map(m => m.name).join(', ')}).`, {
        suggestions: [`Upgrade synapse, or point DATABASE_URL at ${this.elsewhere}.`],
      })
    }
    return MIGRATIONS.map(migration => ({applied: executed.some(m => m.name === migration.name), name: migration.name}))
  }

  async revert(options: {all?: boolean} = {}): Promise<string[]> {
    return this.underSchemaLock(async runner => {
      const reverted: string[] = []
      for (;;) {
        const executor = this.executor(runner)
        const executed = await executor.getExecutedMigrations()
        if (executed.length === 0) break
        const newest = executed.reduce((a, b) => (b.timestamp > a.timestamp ? b : a))
        await executor.undoLastMigration()
        reverted.push(newest.name)
        if (!options.all) break
      }
      await this.repairSearchIndex(runner)
      return reverted
    })
  }

  /** The checks every SQL backend shares, once its migrations are all applied. */
  protected async migrationChecks(): Promise<IntegrityReport['checks']> {
    const pending = (await this.migrations()).filter(m => !m.applied).map(m => m.name)
    const checks = [{detail: pending.length === 0 ? 'all applied' : `pending: ${pending.join(', ')}`, name: 'migrations', ok: pending.length === 0}]
    if (pending.length === 0) {
      // The schema the migrations built must be the one the entities describe.
      const drift = await this.guard(async () => (await this.dataSource.driver.createSchemaBuilder().log()).upQueries.map(q => q.query))
      checks.push({detail: drift.length === 0 ? 'matches this version' : `differs: ${drift.join('; ')}`, name: 'schema', ok: drift.length === 0})
      checks.push(await this.guard(() => searchIndexFor(this.dataSource.options.type).check(this.runner())))
    }
    return checks
  }

  /** Statements on the connection of the schema lock's transaction, else the DataSource's. */
  private runner(runner?: QueryRunner): RunSql {
    return (sql, params) => (runner ?? this.dataSource).query(sql, params)
  }

  /** Whether the search index's migration is applied, as the lock's transaction sees it. */
  private async searchIndexInstalled(runner?: QueryRunner): Promise<boolean> {
    const executed = await this.guard(() => this.executor(runner).getExecutedMigrations())
    return executed.some(m => m.name === SEARCH_INDEX_MIGRATION)
  }

  /**
   * A migration after the search index's that rebuilds a table (SQLite does for most column
   * changes) takes the index's triggers with it and renumbers the rows; so does reverting one.
   * Checked, and put right, inside the same transaction, whenever the index is there.
   */
  private async repairSearchIndex(runner?: QueryRunner): Promise<void> {
    if (await this.searchIndexInstalled(runner)) await searchIndexFor(this.dataSource.options.type).repair(this.runner(runner))
  }

  protected async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw this.describe(error)
    }
  }

  /** What a failed schema change becomes: the error as described, else MIGRATION_FAILED saying nothing changed. */
  protected migrationFailure(error: unknown): unknown {
    if (error instanceof SynapseError) return error
    const described = this.describe(error)
    if (described instanceof SynapseError) return described
    return new SynapseError('MIGRATION_FAILED', `Migrating the session database failed: ${String((error as Error).message).split('\n')[0]}`, {
      cause: error,
      suggestions: ['Nothing was changed. Run "synapse db check", and report the error with DEBUG=* output.'],
    })
  }

  /**
   * Runs schema changes holding the backend's schema lock, in one transaction of the backend's own
   * (a failure changes nothing). `runner`, when given, is the connection that transaction is on.
   */
  protected abstract underSchemaLock<T>(work: (runner?: QueryRunner) => Promise<T>): Promise<T>

  /** Migrations run inside the lock's transaction, never one of TypeORM's own. */
  private executor(runner?: QueryRunner): MigrationExecutor {
    const executor = new MigrationExecutor(this.dataSource, runner)
    executor.transaction = 'none'
    return executor
  }
}
