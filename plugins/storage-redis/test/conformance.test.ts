import {sessionStoreConformance} from 'synapse-cli/testing'

import {openRedisStore} from '../src/redis-store.js'
import {Prefixes} from './helpers.js'

describe('Redis store', function () {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  // Every store gets a key prefix of its own on the real server; every optional part of the contract applies.
  sessionStoreConformance({createStore: ({clock}) => openRedisStore({clock, url: prefixes.url('conformance')}), name: 'redis'})
})
