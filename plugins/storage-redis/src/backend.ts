import type {StorageBackend} from 'synapse-cli'

/**
 * The Redis backend, as the `synapse:storage` hook hands it over. The hook runs before every store
 * command, so this module imports no Redis client: `open` loads it when a redis:// URL is opened.
 */
export const redisBackend: StorageBackend = {
  description: 'Redis server, for users who already run one (redis://[user:password@]host:6379/0?prefix=synapse; rediss:// for TLS)',
  name: 'redis',
  async open(url, options) {
    const {openRedisStore} = await import('./redis-adapter.js')
    // No schema, so `migrate` has nothing to do, and opening writes nothing, so `readOnly` changes nothing.
    return openRedisStore({clock: options.clock, url})
  },
  schemes: ['redis', 'rediss'],
}
