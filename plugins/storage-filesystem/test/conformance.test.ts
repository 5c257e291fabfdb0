import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {sessionStoreConformance} from 'synapse-cli/testing'

import {openFilesystemStore} from '../src/filesystem-store.js'

describe('filesystem store', function () {
  const dirs: string[] = []
  after(() => {
    for (const dir of dirs) rmSync(dir, {force: true, recursive: true})
  })

  // Every optional part of the contract applies; nothing is opted out.
  sessionStoreConformance({
    async createStore({clock}) {
      const dir = mkdtempSync(join(tmpdir(), 'synapse-fs-conformance-'))
      dirs.push(dir)
      return openFilesystemStore({clock, dir: join(dir, 'sessions')})
    },
    name: 'filesystem',
  })
})
