// "synapse-cli/typeorm": the pieces a SQL storage plugin builds on. A backend on another database
// supplies a DataSource and an executor for its dialect; the entities, migrations and queries are
// the same as SQLite's.
import 'reflect-metadata'

// TypeORM itself, so that a plugin builds its DataSource from the same copy that declared the
// entities rather than a second one of its own.
export {DataSource, type DataSourceOptions, MigrationExecutor, type QueryRunner} from 'typeorm'

export {ENTITIES, MessageEntity, SessionEntity} from '../../entities/index.js'
export {MIGRATIONS} from '../../migrations/index.js'
export type {Row, SqlExecutor} from './sql-executor.js'
export {TypeormSessionStore, type TypeormStoreOptions} from './typeorm-store.js'
