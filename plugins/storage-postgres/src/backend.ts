import type {StorageBackend} from 'synapse-cli'

/**
 * The PostgreSQL backend, as the `synapse:storage` hook hands it over. The hook runs before every
 * store command, so this module imports neither pg nor TypeORM: `open` loads them when a
 * postgres:// URL is actually opened.
 */
export const postgresBackend: StorageBackend = {
  description: 'PostgreSQL database, for teams sharing one history (postgres://user:password@host/database?schema=name)',
  name: 'postgres',
  async open(url, options) {
    const {openPostgresStore} = await import('./postgres-store.js')
    return openPostgresStore({busyTimeoutMs: options.busyTimeoutMs, clock: options.clock, migrate: options.migrate, url})
  },
  schemes: ['postgres', 'postgresql'],
}
