import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Schemas, urlOf} from '../../plugins/storage-postgres/test/helpers.js'
import {PROJECT_ROOT, RUN_JS} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

const TRACER = join(PROJECT_ROOT, 'test', 'fixtures', 'trace-imports.mjs')
const DIST = join(PROJECT_ROOT, 'dist')

/** What scripts/build.mjs says each output file (relative to dist/) holds. */
type BundleContents = Record<string, {modules: string[]; packages: string[]}>

/**
 * One build (scripts/build.mjs) serves the CLI and the library that plugins import, so a process
 * runs one copy of each module: the CLI's commands and a plugin's `import 'synapse-cli'` share the
 * same files. These run the shipped artefact, bin/run.js over dist/, as a user's shell does.
 */
describe('one build, one copy of each module', () => {
  let sandbox: Sandbox
  const schemas = new Schemas()
  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())
  after(() => schemas.dropAll())

  /** Runs synapse under the tracer; `files` are the absolute paths of every file the process loaded. */
  function synapse(args: string[], env: NodeJS.ProcessEnv = {}) {
    const result = spawnSync(process.execPath, ['--import', TRACER, RUN_JS, ...args], {
      encoding: 'utf8',
      env: {...sandbox.env, ...env, TRACE_FILES: '1'},
    })
    const files = result.stderr
      .split('\n')
      .filter(line => line.startsWith('LOADED '))
      .map(line => fileURLToPath(line.slice('LOADED '.length)))
    return {
      files,
      status: result.status,
      stderr: result.stderr
        .split('\n')
        .filter(line => !line.startsWith('LOADED '))
        .join('\n'),
      stdout: result.stdout,
    }
  }

  /** Every module of src/ and every bundled package the loaded files hold, with the files holding each. */
  function copies(files: string[]): Map<string, string[]> {
    const contents = JSON.parse(readFileSync(join(DIST, 'bundle-contents.json'), 'utf8')) as BundleContents
    const holders = new Map<string, string[]>()
    for (const file of files.filter(f => f.startsWith(`${DIST}/`))) {
      const held = contents[file.slice(DIST.length + 1)]
      // A file of dist/ that the build did not write (tsc's JavaScript of old) would be a second copy.
      expect(held, `${file} is not part of the build`).to.not.equal(undefined)
      for (const name of [...held.modules, ...held.packages]) holders.set(name, [...(holders.get(name) ?? []), file])
    }
    return holders
  }

  function expectOneCopyEach(files: string[], mustInclude: string[]): void {
    const holders = copies(files)
    const twice = [...holders].filter(([, held]) => held.length > 1)
    expect(twice, 'modules loaded from more than one file').to.deep.equal([])
    for (const name of mustInclude) expect(holders.get(name), name).to.have.lengthOf(1)
    // Nothing runs from the TypeScript sources, nor from node_modules' view of this package.
    expect(files.filter(f => f.startsWith(join(PROJECT_ROOT, 'src')) || f.includes('/node_modules/synapse-cli/'))).to.deep.equal([])
  }

  it('a store command on SQLite', () => {
    const {files, status, stdout} = synapse(['sessions', 'list', '--json'])
    expect(status).to.equal(0)
    expect(JSON.parse(stdout)).to.deep.equal([])
    expectOneCopyEach(files, ['src/core/errors.ts', 'src/cli/runtime.ts', 'src/store/store.ts', 'src/store/typeorm/sql-adapter.ts', 'typeorm', '@oclif/core'])
  })

  it('a store command on PostgreSQL: the plugin imports synapse-cli and synapse-cli/typeorm from the same files as the CLI', async () => {
    const url = urlOf(schemas.fresh('onecopy'))
    const created = synapse(['sessions', 'new', '--title', 'one copy', '--json'], {DATABASE_URL: url})
    expect(created.status, created.stderr).to.equal(0)
    const {files, status, stdout} = synapse(['sessions', 'list', '--json'], {DATABASE_URL: url})
    expect(status).to.equal(0)
    expect((JSON.parse(stdout) as Array<{title: string}>).map(s => s.title)).to.deep.equal(['one copy'])
    // The plugin did run, and its imports of synapse-cli resolved into the build.
    expect(files).to.include(join(PROJECT_ROOT, 'plugins', 'storage-postgres', 'dist', 'postgres-store.js'))
    expect(files).to.include(join(DIST, 'store', 'typeorm', 'index.js'))
    expectOneCopyEach(files, [
      'src/core/errors.ts',
      'src/store/store.ts',
      'src/store/typeorm/sql-adapter.ts',
      'src/entities/session.ts',
      'typeorm',
      'reflect-metadata',
    ])
  })

  it("an error the plugin throws is the CLI's own SynapseError, and the CLI reports it as one", () => {
    // Nothing listens on port 1: the plugin turns the refused connection into a StorageUnavailableError.
    const refused = 'postgres://postgres@127.0.0.1:1/test'
    const {files, status, stdout} = synapse(['sessions', 'list', '--json'], {DATABASE_URL: refused})
    expect(status).to.equal(1)
    expect(JSON.parse(stdout).error).to.include({
      code: 'STORAGE_UNAVAILABLE',
      message: 'Cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/test: connection refused.',
    })
    expectOneCopyEach(files, ['src/core/errors.ts'])

    // By prototype, which a brand cannot fake: the class the plugin's error derives from is the one
    // a command of the CLI throws (StoreCommand.store before the init hook opened anything), loaded
    // as bin/run.js loads it.
    const script = `
      const {Config} = await import(${JSON.stringify(join(DIST, 'cli', 'launcher.js'))})
      const config = await Config.load({root: ${JSON.stringify(PROJECT_ROOT)}})
      const {successes} = await config.runHook('synapse:storage', {})
      const [backend] = successes.find((s) => s.plugin.name === '@synapse-cli/storage-postgres').result
      const List = await config.findCommand('sessions:list').load()
      let fromCli
      try { new List([], config).store } catch (error) { fromCli = error }
      let fromPlugin
      try { await backend.open(${JSON.stringify(refused)}, {busyTimeoutMs: 1000}) } catch (error) { fromPlugin = error }
      const CliSynapseError = fromCli.constructor
      console.log(JSON.stringify({
        cli: [CliSynapseError.name, fromCli.code],
        derives: CliSynapseError.prototype.isPrototypeOf(fromPlugin),
        instanceOf: fromPlugin instanceof CliSynapseError,
        plugin: [fromPlugin.constructor.name, fromPlugin.code],
      }))
    `
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {cwd: sandbox.root, encoding: 'utf8', env: sandbox.env})
    expect(result.status, result.stderr).to.equal(0)
    expect(JSON.parse(result.stdout)).to.deep.equal({
      cli: ['SynapseError', 'STORAGE_UNAVAILABLE'],
      derives: true,
      instanceOf: true,
      plugin: ['StorageUnavailableError', 'STORAGE_UNAVAILABLE'],
    })
  })
})
