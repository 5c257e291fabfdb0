import {sessionStoreConformance} from 'synapse-cli/testing'

import {openRedisStore, RedisStorageAdapter} from '../src/redis-adapter.js'
import {Prefixes} from './helpers.js'

describe('Redis store', () => {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  // Every store gets a key prefix of its own on the real server. Redis offers the count (ZCARD)
  // and fresh records; the generic-path run proves the core's count and copies on it too.
  sessionStoreConformance({
    createAdapter: () => RedisStorageAdapter.open({url: prefixes.url('conformance')}),
    createStore: ({clock}) => openRedisStore({clock, url: prefixes.url('conformance')}),
    name: 'redis',
  })
})
