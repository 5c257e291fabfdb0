import {Config} from '@oclif/core'
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {type StorageBackend, StorageBackends} from 'synapse-cli'

import storage from '../src/hooks/storage.js'
import {Schemas, urlOf} from './helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

describe('synapse:storage hook', () => {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  it('offers the postgres backend for postgres:// and postgresql:// URLs', async () => {
    const [backend] = await storage()
    expect({name: backend.name, schemes: backend.schemes}).to.deep.equal({name: 'postgres', schemes: ['postgres', 'postgresql']})
    const backends = new StorageBackends()
    backends.register(backend)
    expect(backends.for('postgresql://u@h/db').name).to.equal('postgres')
    expect(backends.for('POSTGRES://u@h/db').name).to.equal('postgres')
  })

  it('opens a migrated store for a URL, in the schema it names', async () => {
    const [backend] = await storage()
    const url = urlOf(schemas.fresh('hook')).replace(/^postgres:/, 'postgresql:')
    const store = await backend.open(url, {busyTimeoutMs: 1000})
    try {
      expect(store.backend).to.equal('postgres')
      expect(store.maintenance!.location).to.equal(url)
      expect((await store.maintenance!.migrations()).every(m => m.applied)).to.equal(true)
      const session = await store.create({title: 'via the hook'})
      expect((await store.get(session.id)).title).to.equal('via the hook')
    } finally {
      await store.close()
    }
  })

  it('is what oclif runs for the event, from the built plugin', async () => {
    const config = await Config.load({root: ROOT})
    const {failures, successes} = await config.runHook('synapse:storage' as never, {} as never)
    // Other plugins answer too (or fail, while they are being written); only ours is checked here.
    expect(failures.filter(f => f.plugin.name === '@synapse-cli/storage-postgres')).to.deep.equal([])
    const ours = successes.find(s => s.plugin.name === '@synapse-cli/storage-postgres')
    expect((ours?.result as StorageBackend[] | undefined)?.map(b => b.name)).to.deep.equal(['postgres'])
  })

  it('loads neither pg nor TypeORM until a store is opened', () => {
    const trace = (code: string) =>
      spawnSync(process.execPath, ['--import', './test/fixtures/trace-imports.mjs', '--input-type=module', '-e', code], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {...process.env, TRACE_IMPORTS: 'pg,typeorm'},
      })
    const hook = trace(
      "const {default: storage} = await import('./plugins/storage-postgres/dist/hooks/storage.js'); const [b] = await storage(); console.log(b.name)",
    )
    expect(hook.stderr).to.equal('')
    expect(hook.stdout).to.equal('postgres\n')
    // The tracer does see them where they are loaded.
    const store = trace("await import('./plugins/storage-postgres/dist/postgres-store.js')")
    expect(store.stderr).to.contain('IMPORTED file://').and.to.contain('/node_modules/pg/').and.to.contain('/node_modules/typeorm/')
  })
})
