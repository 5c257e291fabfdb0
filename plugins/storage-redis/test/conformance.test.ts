import {sessionStoreConformance} from 'synapse-cli/testing'

import {openRedisStore, RedisStorageAdapter} from '../src/redis-adapter.js'
import {Prefixes} from './helpers.js'

describe('Redis store', () => {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  // Every store gets a key prefix of its own on the real server. Redis lists natively (a sorted set
  // by updatedAt); the generic-path run proves the core's own listing and retention on it too.
  sessionStoreConformance({
    createAdapter: () => RedisStorageAdapter.open({url: prefixes.url('conformance')}),
    createStore: ({clock}) => openRedisStore({clock, url: prefixes.url('conformance')}),
    name: 'redis',
  })
})
