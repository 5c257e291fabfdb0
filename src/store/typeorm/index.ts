// "synapse-cli/typeorm": the pieces a SQL storage plugin builds on. A backend on another database
// supplies a DataSource, an executor and a dialect; the entities, migrations, statements and the
// maintenance of migrations are the same as SQLite's.
import 'reflect-metadata'

// TypeORM itself, so that a plugin builds its DataSource from the same copy that declared the
// entities rather than a second one of its own.
export {DataSource, type DataSourceOptions, MigrationExecutor, type QueryRunner} from 'typeorm'

export {ENTITIES, MessageEntity, SessionEntity} from '../../entities/index.js'
export {MIGRATIONS} from '../../migrations/index.js'
export {SchemaMaintenance} from './maintenance.js'
export {type SqlAdapterOptions, SqlStorageAdapter} from './sql-adapter.js'
export {postgresDialect, type SqlDialect, SQLITE_DIALECT} from './sql-dialect.js'
export type {Row, SqlExecutor} from './sql-executor.js'
