// @synapse-cli/storage-redis: sessions in Redis, for redis:// and rediss:// URLs.
export {redisBackend} from './backend.js'
export {describeRedisError} from './errors.js'
export {type RedisAdapterOptions, RedisStorageAdapter} from './redis-adapter.js'
export {openRedisStore} from './redis-store.js'
export {DEFAULT_PREFIX, type RedisTarget, redisTarget, type RedisTargetOptions} from './target.js'
