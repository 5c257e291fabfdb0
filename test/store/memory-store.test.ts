import {MemorySessionStore, MemoryStorageAdapter} from '../../src/store/memory-store.js'
import {sessionStoreConformance} from '../../src/testing/session-store-suite.js'

// The memory adapter offers no optional capability, so its generic-path run is the same code as its
// own; it runs anyway, to prove the capability switch itself harmless.
sessionStoreConformance({
  createAdapter: async () => new MemoryStorageAdapter(),
  createStore: async ({clock}) => new MemorySessionStore({clock}),
  name: 'memory',
})
