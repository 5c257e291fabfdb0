import {MemorySessionStore} from '../../src/store/memory-store.js'
import {sessionStoreConformance} from '../../src/testing/session-store-suite.js'

sessionStoreConformance({createStore: async ({clock}) => new MemorySessionStore({clock}), name: 'memory'})
