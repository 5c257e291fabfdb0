import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {sessionStoreConformance} from 'synapse-cli/testing'

import {openFilesystemAdapter, openFilesystemStore} from '../src/filesystem-store.js'

describe('filesystem store', () => {
  const dirs: string[] = []
  after(() => {
    for (const dir of dirs) rmSync(dir, {force: true, recursive: true})
  })

  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'synapse-fs-conformance-'))
    dirs.push(dir)
    return join(dir, 'sessions')
  }

  // The filesystem adapter offers no optional capability (the core lists and prunes from its cached
  // summaries), so its generic-path run is the same code; it runs anyway, to prove the switch harmless.
  sessionStoreConformance({
    createAdapter: () => openFilesystemAdapter({dir: fresh()}),
    createStore: ({clock}) => openFilesystemStore({clock, dir: fresh()}),
    name: 'filesystem',
  })
})
