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

  // The filesystem adapter's one optional capability is the count from its directory listing
  // (the core lists and prunes from its cached summaries): the generic-path run proves the core's
  // count over those summaries.
  sessionStoreConformance({
    createAdapter: () => openFilesystemAdapter({dir: fresh()}),
    createStore: ({clock}) => openFilesystemStore({clock, dir: fresh()}),
    name: 'filesystem',
  })
})
