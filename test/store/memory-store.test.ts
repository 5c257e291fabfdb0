import {MemorySessionStore, MemoryStorageAdapter} from '../../src/store/memory-store.js'
import {sessionStoreConformance} from '../../src/testing/session-store-suite.js'

// The memory adapter offers two optional capabilities (the count, as every SnapshotStorageAdapter,
// and the title look-up): its generic-path run proves the core's count and look-up over summaries()
// and the capability switch itself.
sessionStoreConformance({
  createAdapter: async () => new MemoryStorageAdapter(),
  createStore: async ({clock}) => new MemorySessionStore({clock}),
  name: 'memory',
})
