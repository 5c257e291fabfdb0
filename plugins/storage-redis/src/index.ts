// @synapse-cli/storage-redis: sessions in Redis, for redis:// and rediss:// URLs.
export {redisBackend} from './backend.js'
export {describeRedisError} from './errors.js'
export {openRedisStore, type RedisAdapterOptions, RedisStorageAdapter} from './redis-adapter.js'
export {DEFAULT_PREFIX, type RedisTarget, redisTarget} from './target.js'
