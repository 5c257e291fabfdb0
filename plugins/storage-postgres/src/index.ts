// @synapse-cli/storage-postgres: sessions in PostgreSQL, on the same entities, migrations and queries
// as the built-in SQLite store.
export {postgresBackend} from './backend.js'
export {describePostgresError} from './errors.js'
export {PostgresExecutor} from './postgres-executor.js'
export {openPostgresAdapter, openPostgresStore, PostgresMaintenance, type PostgresStoreOptions} from './postgres-store.js'
export {postgresTarget, type PostgresTarget, type TargetOptions} from './target.js'
