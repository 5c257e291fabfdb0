import {SessionStore, type StoreOptions} from 'synapse-cli'

import {type RedisAdapterOptions, RedisStorageAdapter} from './redis-adapter.js'

/** A SessionStore over Redis: connects, and reports an unreachable or refusing server as STORAGE_UNAVAILABLE. */
export async function openRedisStore(options: RedisAdapterOptions & StoreOptions): Promise<SessionStore> {
  return new SessionStore(await RedisStorageAdapter.open(options), {clock: options.clock})
}
