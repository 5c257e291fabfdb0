import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {PROJECT_ROOT} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {synapseCommandLine, testRuntime} from '../helpers/spawn.js'

const ECHO = join(PROJECT_ROOT, 'examples', 'synapse-plugin-echo')

/**
 * The directories that hold code synapse runs (linked and installed plugins, completion scripts a
 * shell sources) are the user's alone, even for a user whose umask gives everything away.
 */
describe('private directories under umask 000 (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  async function underUmask000(args: string[]): Promise<void> {
    const child = spawn('sh', ['-c', `umask 000; exec ${synapseCommandLine(args)}`], {env: {...sandbox.env, ...testRuntime().env}})
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    const code = await new Promise(resolve => child.on('close', resolve))
    expect(code, output).to.equal(0)
  }

  const modeOf = (path: string) => statSync(path).mode & 0o777
  const cacheDir = () => join(sandbox.root, 'cache', 'synapse')

  it('plugins link creates the data directory 0700', async () => {
    await underUmask000(['plugins', 'link', ECHO, '--no-install'])
    expect(modeOf(sandbox.dataDir)).to.equal(0o700)
    expect(modeOf(join(sandbox.root, 'data'))).to.equal(0o700)
  })

  it('autocomplete creates the completion cache 0700', async () => {
    await underUmask000(['autocomplete', 'bash'])
    expect(modeOf(cacheDir())).to.equal(0o700)
    for (const dir of ['autocomplete', 'autocomplete/functions/bash', 'autocomplete/functions/zsh']) {
      expect(modeOf(join(cacheDir(), dir)) & 0o077, dir).to.equal(0)
    }
  })

  it('takes group and other access away from directories an earlier version left open', async () => {
    for (const dir of [sandbox.dataDir, cacheDir()]) {
      mkdirSync(dir, {recursive: true})
      chmodSync(dir, 0o777)
    }
    await underUmask000(['autocomplete', 'zsh'])
    expect(modeOf(sandbox.dataDir)).to.equal(0o700)
    expect(modeOf(cacheDir())).to.equal(0o700)
  })
})
