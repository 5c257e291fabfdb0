import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {PROJECT_ROOT, RUN_JS} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

const TRACER = join(PROJECT_ROOT, 'test', 'fixtures', 'trace-imports.mjs')

describe('start-up', () => {
  let sandbox: Sandbox
  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  // The CLI runs from the esbuild bundle, where TypeORM is part of a chunk: the tracer reports a
  // chunk by the packages it bundles, "IMPORTED file:///.../dist/chunks/x.js (bundles /node_modules/typeorm/)".
  function synapse(args: string[]) {
    const result = spawnSync(process.execPath, ['--import', TRACER, RUN_JS, ...args], {
      encoding: 'utf8',
      env: {...sandbox.env, TRACE_FILES: '1', TRACE_IMPORTS: '@oclif/core,typeorm,better-sqlite3,cosmiconfig,@pydantic/genai-prices,gpt-tokenizer'},
    })
    const lines = result.stderr.split('\n').filter(l => l.startsWith('IMPORTED'))
    const imported = (name: string) => lines.filter(l => l.includes(`/node_modules/${name}/`))
    const loadedFiles = result.stderr.split('\n').filter(l => l.startsWith('LOADED '))
    /** Whether a file of the bundle that holds this module of src/ was loaded. */
    const loadedModule = (module: string) => {
      const contents = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist', 'bundle-contents.json'), 'utf8')) as Record<string, {modules: string[]}>
      const files = Object.entries(contents).filter(([, {modules}]) => modules.includes(module))
      expect(files, `a bundle file holds ${module}`).to.not.deep.equal([])
      return files.some(([file]) => loadedFiles.some(l => l.endsWith(`/dist/${file}`)))
    }
    return {imported, loadedModule, status: result.status, stderr: result.stderr, stdout: result.stdout}
  }

  for (const args of [['--help'], ['-h'], ['--version'], ['sessions', '--help'], ['sessions', 'list', '--help'], ['help', 'db']]) {
    it(`"synapse ${args.join(' ')}" neither imports TypeORM nor touches the database`, () => {
      const {imported, status, stdout} = synapse(args)
      expect(status).to.equal(0)
      expect(stdout.length).to.be.greaterThan(0)
      expect([...imported('typeorm'), ...imported('better-sqlite3'), ...imported('cosmiconfig')]).to.deep.equal([])
      // The tracer sees into the bundle: @oclif/core, bundled too, shows up, and only the bundle's copy.
      expect(imported('@oclif/core').some(l => l.includes('/dist/chunks/') && l.includes('(bundles'))).to.equal(true)
      expect(imported('@oclif/core').filter(l => !l.includes('(bundles'))).to.deep.equal([])
      expect(existsSync(join(sandbox.configDir, 'sessions.db'))).to.equal(false)
    })
  }

  // These come from other oclif plugins, which load their own @oclif/core; they must still leave the store alone.
  for (const args of [['plugins'], ['autocomplete', 'bash']]) {
    it(`"synapse ${args.join(' ')}" neither imports TypeORM nor touches the database`, () => {
      const {imported, status, stdout} = synapse(args)
      expect(status).to.equal(0)
      expect(stdout.length).to.be.greaterThan(0)
      expect([...imported('typeorm'), ...imported('better-sqlite3')]).to.deep.equal([])
      expect(existsSync(join(sandbox.configDir, 'sessions.db'))).to.equal(false)
    })
  }

  it('a store command does import TypeORM and creates the database (the tracer works)', () => {
    const {imported, status} = synapse(['sessions', 'list'])
    expect(status).to.equal(0)
    expect(imported('typeorm').some(l => l.includes('/dist/chunks/') && l.includes('(bundles'))).to.equal(true)
    expect(imported('better-sqlite3').length).to.be.greaterThan(0)
    expect(imported('@oclif/core').filter(l => !l.includes('(bundles'))).to.deep.equal([])
    expect(existsSync(join(sandbox.configDir, 'sessions.db'))).to.equal(true)
  })

  it('the model data extracted at build time loads for "synapse models" only, and neither the package it came from nor a tokenizer ever', () => {
    const data = 'src/providers/model-data.generated.json'
    for (const args of [['--help'], ['sessions', 'list'], ['config', 'show']]) {
      const {imported, loadedModule, status} = synapse(args)
      expect(status, args.join(' ')).to.equal(0)
      expect(loadedModule(data), args.join(' ')).to.equal(false)
      expect(imported('@pydantic/genai-prices'), args.join(' ')).to.deep.equal([])
    }

    const {imported, loadedModule, status} = synapse(['models'])
    expect(status).to.equal(0)
    expect(loadedModule(data)).to.equal(true)
    expect(imported('@pydantic/genai-prices')).to.deep.equal([])
    expect(imported('gpt-tokenizer')).to.deep.equal([])
  })

  it('the code and the page of "synapse ui" load for that command only', () => {
    const contents = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist', 'bundle-contents.json'), 'utf8')) as Record<
      string,
      {modules: string[]; packages: string[]}
    >
    const uiFiles = Object.entries(contents)
      .filter(([, held]) => held.modules.some(m => m.startsWith('src/ui/')) || held.packages.includes('markdown-it'))
      .map(([file]) => file)
    // The tracer can see them: the server's chunk and the one holding the page (markdown-it and all).
    expect(uiFiles.length).to.be.greaterThanOrEqual(2)
    for (const args of [['--help'], ['sessions', 'list'], ['config', 'show'], ['ui', '--help']]) {
      const result = spawnSync(process.execPath, ['--import', TRACER, RUN_JS, ...args], {encoding: 'utf8', env: {...sandbox.env, TRACE_FILES: '1'}})
      expect(result.status, args.join(' ')).to.equal(0)
      const loaded = result.stderr.split('\n').filter(line => line.startsWith('LOADED '))
      expect(loaded.length, args.join(' ')).to.be.greaterThan(0)
      expect(
        loaded.filter(line => uiFiles.some(file => line.endsWith(`/dist/${file}`))),
        args.join(' '),
      ).to.deep.equal([])
    }
  })

  it('prints the version', () => {
    const {stdout} = synapse(['--version'])
    expect(stdout).to.match(/^synapse-cli\/\d+\.\d+\.\d+ linux-x64 node-v\d+/)
  })

  it('exits 2 with a hint for an unknown command', () => {
    const {status, stderr} = synapse(['sessions', 'lst'])
    expect(status).to.equal(2)
    expect(stderr).to.contain('lst')
  })
})
