import {join} from 'node:path'

import {openSqliteAdapter, openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {sessionStoreConformance} from '../../src/testing/session-store-suite.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

describe('SQLite store', () => {
  let sandbox: Sandbox
  before(() => {
    sandbox = makeSandbox()
  })
  after(() => sandbox.cleanup())

  let n = 0
  // SQL lists and prunes natively; the generic-path run proves the core's own paths on SQLite too.
  sessionStoreConformance({
    createAdapter: () => openSqliteAdapter({path: join(sandbox.root, `conformance-${n++}.db`)}),
    createStore: ({clock}) => openSqliteStore({clock, path: join(sandbox.root, `conformance-${n++}.db`)}),
    name: 'sqlite file',
  })
  sessionStoreConformance({createStore: ({clock}) => openSqliteStore({clock, path: ':memory:'}), name: 'sqlite :memory:'})
})
