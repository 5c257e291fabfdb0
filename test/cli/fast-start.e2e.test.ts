import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {PROJECT_ROOT} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'

const GREET = join(PROJECT_ROOT, 'test', 'fixtures', 'plugins', 'synapse-plugin-greet')

interface Entry {
  situation: string
  stdout: string
}

/**
 * bin/run.js answers --version and --help from what oclif printed before (bin/fast-start.js). What
 * oclif itself prints is what a run in a situation seen for the first time prints: a variable of
 * its own in the environment makes one.
 */
describe('--version and --help from the start cache (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let fresh = 0
  const cacheFile = () => join(sandbox.root, 'cache', 'synapse', 'start.json')
  const entries = (): Entry[] => (existsSync(cacheFile()) ? JSON.parse(readFileSync(cacheFile(), 'utf8')) : [])
  const poison = () => writeFileSync(cacheFile(), JSON.stringify(entries().map(entry => ({...entry, stdout: 'poisoned\n'}))))
  /** oclif's own answer: a situation no earlier run was in. */
  const oclif = async (args: string[]) => {
    const exit = await synapse(sandbox, args, {env: {SYNAPSE_TEST_SITUATION: String(++fresh)}})
    expect(exit.code, exit.stderr).to.equal(0)
    return exit.stdout
  }
  const answer = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const exit = await synapse(sandbox, args, {env})
    expect(exit.code, exit.stderr).to.equal(0)
    expect(exit.stderr).to.equal('')
    return exit.stdout
  }

  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  for (const args of [['--version'], ['--help'], ['-h']]) {
    it(`synapse ${args.join(' ')}: the same bytes as oclif's, replayed from a private cache file the second time`, async () => {
      const first = await answer(args)
      expect(first).to.equal(await oclif(args))
      expect(first).to.match(args[0] === '--version' ? /^synapse-cli\/\d+\.\d+\.\d+ \S+ node-v[\d.]+\n$/ : /^A command-line chat client.*\n\nVERSION\n/)
      expect(statSync(cacheFile()).mode & 0o777).to.equal(0o600)
      expect(entries().map(entry => entry.stdout)).to.include(first)
      expect(await answer(args)).to.equal(first)
      // What the second run printed came from the cache: a changed entry is what it prints.
      poison()
      expect(await answer(args)).to.equal('poisoned\n')
    })
  }

  it('a plugin linked or unlinked since is in the next help, never a stale one; its command runs', async () => {
    // A plugin with a manifest, as a published one has: its help is cached like synapse's own.
    const plugin = join(sandbox.root, 'synapse-plugin-greet')
    cpSync(GREET, plugin, {recursive: true})
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(plugin, 'node_modules'))
    execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {cwd: plugin, env: sandbox.env, stdio: 'ignore'})

    const before = await answer(['--help'])
    expect(before).not.to.include('greet')
    poison()
    expect((await synapse(sandbox, ['plugins', 'link', plugin, '--no-install'])).code).to.equal(0)
    const linked = await answer(['--help'])
    expect(linked).to.match(/^ {2}greet +Say hello from a plugin$/m)
    expect(linked).to.equal(await oclif(['--help']))
    expect(await answer(['--help'])).to.equal(linked)
    expect(await answer(['greet'])).to.equal('hello from a plugin\n')

    poison()
    expect((await synapse(sandbox, ['plugins', 'unlink', 'synapse-plugin-greet'])).code).to.equal(0)
    const unlinked = await answer(['--help'])
    expect(unlinked).to.equal(before)
    expect(unlinked).to.equal(await oclif(['--help']))
  })

  it('a plugin without a manifest (its commands read from its files) is in every help, which is never cached', async () => {
    expect((await synapse(sandbox, ['plugins', 'link', GREET, '--no-install'])).code).to.equal(0)
    const help = await answer(['--help'])
    expect(help).to.match(/^ {2}greet +Say hello from a plugin$/m)
    expect(entries().map(entry => entry.stdout)).not.to.include(help)
    expect(await answer(['--help'])).to.equal(help)
  })

  it('keeps no value of the environment: an API key in it is not in the cache file', async () => {
    const key = 'sk-test-6f1c2b7e9a4d4e0f8b3a5c7d9e1f2a4b'
    await answer(['--help'], {OPENAI_API_KEY: key})
    expect(await answer(['--help'], {OPENAI_API_KEY: key})).to.match(/^A command-line chat client/)
    expect(readFileSync(cacheFile(), 'utf8')).not.to.include(key)
    expect(readFileSync(cacheFile(), 'utf8')).not.to.include('OPENAI_API_KEY')
  })

  it('another terminal width is another answer, each replayed as oclif gave it', async () => {
    const wide = await answer(['--help'])
    const narrow = await answer(['--help'], {OCLIF_COLUMNS: '50'})
    expect(narrow).not.to.equal(wide)
    expect(await answer(['--help'], {OCLIF_COLUMNS: '50'})).to.equal(narrow)
    expect(await answer(['--help'])).to.equal(wide)
    expect(entries()).to.have.length(2)
  })
})
