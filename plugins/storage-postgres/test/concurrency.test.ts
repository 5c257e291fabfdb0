import {concurrentAppendsTest} from 'synapse-cli/testing'

import {openPostgresStore} from '../src/postgres-store.js'
import {Schemas, urlOf} from './helpers.js'

describe('PostgreSQL store shared by several processes', () => {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  concurrentAppendsTest({
    location: () => urlOf(schemas.fresh('concurrency')),
    open: url => openPostgresStore({url}),
    worker: 'plugins/storage-postgres/test/fixtures/append-worker.ts',
  })
})
