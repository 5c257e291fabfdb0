import {sessionStoreConformance} from 'synapse-cli/testing'

import {openPostgresAdapter, openPostgresStore} from '../src/postgres-store.js'
import {Schemas, urlOf} from './helpers.js'

describe('PostgreSQL store', () => {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  // Every store gets a schema of its own, migrated from blank.
  // PostgreSQL lists and prunes natively; the generic-path run proves the core's own paths on it too.
  sessionStoreConformance({
    createAdapter: () => openPostgresAdapter({url: urlOf(schemas.fresh('conformance'))}),
    createStore: ({clock}) => openPostgresStore({clock, url: urlOf(schemas.fresh('conformance'))}),
    name: 'postgres',
  })
})
