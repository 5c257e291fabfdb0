import {MemorySessionStore, MemoryStorageAdapter} from '../../src/store/memory-store.js'
import {sessionStoreConformance} from '../../src/testing/session-store-suite.js'

// The memory adapter offers one optional capability (the title look-up): its generic-path run
// proves the core's look-up over summaries() and the capability switch itself.
sessionStoreConformance({
  createAdapter: async () => new MemoryStorageAdapter(),
  createStore: async ({clock}) => new MemorySessionStore({clock}),
  name: 'memory',
})
