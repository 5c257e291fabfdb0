import {concurrentAppendsTest} from 'synapse-cli/testing'

import {openRedisStore} from '../src/redis-adapter.js'
import {Prefixes} from './helpers.js'

describe('Redis store shared by several processes', () => {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  concurrentAppendsTest({
    location: () => prefixes.url('concurrency'),
    open: url => openRedisStore({url}),
    worker: 'plugins/storage-redis/test/fixtures/append-worker.ts',
  })
})
