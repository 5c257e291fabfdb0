import {sessionStoreConformance} from 'synapse-cli/testing'

import {openPostgresStore} from '../src/postgres-store.js'
import {Schemas, urlOf} from './helpers.js'

describe('PostgreSQL store', function () {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  // Every store gets a schema of its own, migrated from blank.
  sessionStoreConformance({createStore: ({clock}) => openPostgresStore({clock, url: urlOf(schemas.fresh('conformance'))}), name: 'postgres'})
})
