import {expect} from 'chai'
import {mkdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {SynapseError} from '../../src/core/errors.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {concurrentAppendsTest} from '../../src/testing/concurrent-appends.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

function mode(path: string): number {
  return statSync(path).mode & 0o777
}

describe('SQLite files', () => {
  let sandbox: Sandbox
  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  it('creates the directory 0700 and the database, -wal and -shm files 0600', async () => {
    const dir = join(sandbox.root, 'fresh', 'synapse')
    const path = join(dir, 'sessions.db')
    const store = await openSqliteStore({path})
    const session = await store.create()
    await store.append(session.id, [{content: 'secret history', role: 'user'}])
    expect(mode(dir)).to.equal(0o700)
    expect(mode(path)).to.equal(0o600)
    expect(mode(`${path}-wal`)).to.equal(0o600)
    expect(mode(`${path}-shm`)).to.equal(0o600)
    await store.close()
  })

  it('tightens a database file that others could read', async () => {
    const path = join(sandbox.root, 'loose.db')
    writeFileSync(path, '', {mode: 0o644})
    const store = await openSqliteStore({path})
    expect(mode(path)).to.equal(0o600)
    await store.close()
  })

  it('says clearly when the file is not a database, and leaves it alone', async () => {
    const path = join(sandbox.root, 'notes.txt')
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200))
    try {
      await openSqliteStore({path})
      expect.fail('opened a text file as a database')
    } catch (error) {
      expect(error).to.be.instanceOf(SynapseError)
      expect((error as SynapseError).code).to.equal('STORAGE_UNAVAILABLE')
      expect((error as SynapseError).message).to.contain('not a readable SQLite database')
    }
    expect(statSync(path).size).to.equal('these are my notes, not a database\n'.length * 200)
  })

  it('says clearly when the directory cannot be created', async () => {
    const blocker = join(sandbox.root, 'blocker')
    writeFileSync(blocker, '')
    try {
      await openSqliteStore({path: join(blocker, 'sub', 'sessions.db')})
      expect.fail('created a database under a file')
    } catch (error) {
      expect((error as SynapseError).code).to.equal('STORAGE_UNAVAILABLE')
      expect((error as SynapseError).message).to.match(/^Cannot create the session database at .*sessions\.db \(ENOTDIR\)\.$/)
    }
  })

  concurrentAppendsTest({
    location: () => {
      mkdirSync(sandbox.root, {recursive: true})
      return join(sandbox.root, 'shared.db')
    },
    open: path => openSqliteStore({path}),
    processes: 2,
    turns: 150,
    worker: 'test/fixtures/append-worker.ts',
  })
})
