import {Config} from '@oclif/core'
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {type StorageBackend, StorageBackends} from 'synapse-cli'

import storage from '../src/hooks/storage.js'
import {Prefixes} from './helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

describe('synapse:storage hook (Redis)', () => {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  it('offers the redis backend for redis:// and rediss:// URLs', async () => {
    const [backend] = await storage()
    expect({name: backend.name, schemes: backend.schemes}).to.deep.equal({name: 'redis', schemes: ['redis', 'rediss']})
    const backends = new StorageBackends()
    backends.register(backend)
    expect(backends.for('rediss://u:p@h:6380/1').name).to.equal('redis')
    expect(backends.for('REDIS://h').name).to.equal('redis')
  })

  it('opens a store for a URL, under the prefix it names', async () => {
    const [backend] = await storage()
    const store = await backend.open(prefixes.url('hook'), {busyTimeoutMs: 1000})
    try {
      expect(store.backend).to.equal('redis')
      const session = await store.create({title: 'via the hook'})
      expect((await store.get(session.id.slice(0, 10).toLowerCase())).title).to.equal('via the hook')
    } finally {
      await store.close()
    }
  })

  it('is what oclif runs for the event, from the built plugin', async () => {
    const config = await Config.load({root: ROOT})
    const {failures, successes} = await config.runHook('synapse:storage' as never, {} as never)
    expect(failures.filter(f => f.plugin.name === '@synapse-cli/storage-redis')).to.deep.equal([])
    const ours = successes.find(s => s.plugin.name === '@synapse-cli/storage-redis')
    expect((ours?.result as StorageBackend[] | undefined)?.map(b => b.name)).to.deep.equal(['redis'])
  })

  it('loads no Redis client until a store is opened', () => {
    const trace = (code: string) =>
      spawnSync(process.execPath, ['--import', './test/fixtures/trace-imports.mjs', '--input-type=module', '-e', code], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {...process.env, TRACE_IMPORTS: '@redis/client'},
      })
    const hook = trace(
      "const {default: storage} = await import('./plugins/storage-redis/dist/hooks/storage.js'); const [b] = await storage(); console.log(b.name)",
    )
    expect(hook.stderr).to.equal('')
    expect(hook.stdout).to.equal('redis\n')
    // The tracer does see it where it is loaded.
    const store = trace("await import('./plugins/storage-redis/dist/redis-adapter.js')")
    expect(store.stderr).to.contain('IMPORTED file://').and.to.contain('/node_modules/@redis/client/')
  })
})
