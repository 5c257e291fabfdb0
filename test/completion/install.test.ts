import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {run} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

describe('installing value completion beside oclif’s scripts', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let dir: string

  beforeEach(() => {
    sandbox = makeSandbox()
    dir = join(sandbox.root, 'cache', 'synapse', 'autocomplete')
  })
  afterEach(() => sandbox.cleanup())

  const sourceLine = (script: string) => `test -f '${script}' && source '${script}';`
  const occurrences = (text: string, part: string) => text.split(part).length - 1

  it('adds one line to each setup script, however often the scripts are rebuilt', async () => {
    for (const args of [
      ['autocomplete', 'bash'],
      ['autocomplete', 'zsh'],
      ['autocomplete', '--refresh-cache'],
      ['autocomplete', 'create'],
    ]) {
      // oclif's progress ("Building the autocomplete cache... done") goes to stderr; no warning of ours.
      const {exitCode, stderr} = await run(sandbox, args)
      expect({args, exitCode, warned: stderr.includes('will not complete')}).to.deep.equal({args, exitCode: 0, warned: false})
    }
    const bash = join(dir, 'functions', 'bash', 'synapse-values.bash')
    const zsh = join(dir, 'functions', 'zsh', 'synapse-values.zsh')
    const bashSetup = readFileSync(join(dir, 'bash_setup'), 'utf8')
    const zshSetup = readFileSync(join(dir, 'zsh_setup'), 'utf8')
    // After oclif's own line, so that its function exists when ours wraps it.
    expect(bashSetup).to.match(/^SYNAPSE_AC_BASH_COMPFUNC_PATH=.*\n/)
    expect(bashSetup.endsWith(`${sourceLine(bash)}\n`)).to.equal(true)
    expect(occurrences(bashSetup, sourceLine(bash))).to.equal(1)
    expect(zshSetup).to.contain('compinit;\n')
    expect(zshSetup.endsWith(`${sourceLine(zsh)}\n`)).to.equal(true)
    expect(occurrences(zshSetup, sourceLine(zsh))).to.equal(1)
    expect(readFileSync(bash, 'utf8')).to.contain('complete -F _synapse_values_complete synapse\n')
    expect(readFileSync(zsh, 'utf8')).to.contain('compdef _synapse_values_complete synapse\n')
  })

  it('writes nothing after other commands', async () => {
    expect((await run(sandbox, ['autocomplete', 'script', 'bash'])).exitCode).to.equal(0)
    expect((await run(sandbox, ['config', 'path'])).exitCode).to.equal(0)
    expect(existsSync(dir)).to.equal(false)
  })
})
