import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'

import {describeCompletion, expectHostileValuesInert, seedHostileSessions, shellQuote, SHORT_IDS_BY_RECENCY, Terminal, settleCache} from './fixtures.js'
import {requireProgram} from '../helpers/programs.js'

// zsh is not on every machine: .ci/run installs it (apt-get install -y zsh).
describeCompletion('zsh', setup => {
  it('writes scripts that zsh parses', () => {
    const dir = join(setup.sandbox.root, 'cache', 'synapse', 'autocomplete')
    for (const file of ['zsh_setup', 'functions/zsh/_synapse', 'functions/zsh/synapse-values.zsh']) {
      const {status, stderr} = spawnSync('zsh', ['-n', join(dir, file)], {encoding: 'utf8'})
      expect({file, status, stderr}).to.deep.equal({file, status: 0, stderr: ''})
    }
  })

  describe('typed at an interactive zsh', () => {
    let terminal: Terminal

    before(function () {
      requireProgram(this, 'script')
    })

    beforeEach(async () => {
      terminal = new Terminal('zsh -f -i', setup.env)
      // A `synapse` function that shows its arguments; completion stays bound to the name.
      terminal.type('source ~/.zshrc; synapse() { print -r -- "AR""GS<${(j:|:)@}>" }; print REA""DY\n')
      await terminal.until(() => /^READY/m.test(terminal.output))
    })
    afterEach(() => terminal.close())

    it('completes session ids, model and provider names', async () => {
      expect(await terminal.argsAfter('synapse sessions show 01JX4Q\t\n', 1)).to.equal('sessions|show|01JX4Q2B')
      expect(await terminal.argsAfter('synapse chat -s 01jx4q\t\n', 2)).to.equal('chat|-s|01jx4q2b')
      expect(await terminal.argsAfter('synapse "Go on" --session 01JX5AAAY\t\n', 3)).to.equal('Go on|--session|01JX5AAAY')
      expect(await terminal.argsAfter('synapse -m llama3.2:la\t\n', 4)).to.equal('-m|llama3.2:latest')
      expect(await terminal.argsAfter('synapse --model=qwen2\t\n', 5)).to.equal('--model=qwen2.5:7b')
      expect(await terminal.argsAfter('synapse sessions new -p op\t\n', 6)).to.equal('sessions|new|-p|openai')
    })

    it('lists sessions with their titles, most recently updated first', async () => {
      const titles = ['Epsilon', 'Beta', 'Gamma question with two lines', 'Delta', 'Alpha']
      const positions = () => SHORT_IDS_BY_RECENCY.map((id, i) => terminal.output.search(new RegExp(`${id} +-- ${titles[i]} \\(`)))
      // The first TAB inserts what every id shares, the second lists them (zle lists nothing while keys are pending).
      terminal.type('synapse -s \t')
      await terminal.until(() => terminal.output.includes('synapse -s 01JX'))
      terminal.type('\t')
      await terminal.until(() => positions().every(index => index >= 0))
      const at = positions()
      expect([...at].sort((a, b) => a - b)).to.deep.equal(at)
      terminal.type('\u0015')
    })

    it('inserts values with shell syntax quoted, so that Enter passes each as one word and runs nothing', async () => {
      await seedHostileSessions(setup.sandbox)
      await settleCache(setup.sandbox, setup.env, setup.mode, setup.sandbox.root)
      // In the sandbox, where a `touch pwned` that ran would leave its file.
      terminal.type(`cd ${shellQuote(setup.sandbox.root)}; print CH""DIR\n`)
      await terminal.until(() => /^CHDIR/m.test(terminal.output))
      // What zle puts on the line: each value in zsh's own quoting, as ${(q)…} writes it.
      await expectHostileValuesInert(terminal, ['zsh', '-f', '-c', 'print -rn -- ${(q)1}', 'zsh'])
      expect(readdirSync(setup.sandbox.root).filter(name => name.startsWith('pwned'))).to.deep.equal([])
    })

    it('lists a title that holds escape sequences with them made visible', async () => {
      await seedHostileSessions(setup.sandbox)
      await settleCache(setup.sandbox, setup.env, setup.mode)
      terminal.type('synapse -s 01JX\t')
      await terminal.until(() => terminal.output.includes('Zeta '))
      const listed = terminal.output.slice(terminal.output.indexOf('Zeta '))
      expect(listed).to.match(/^Zeta \\x1b\]0;pwned\\x07\\x1b\[2J/)
      expect(terminal.output).not.to.include('\u001B]0;pwned')
      terminal.type('\u0015')
    })

    it('leaves commands and flags to oclif’s completion', async () => {
      expect(await terminal.argsAfter('synapse sess\t\n', 1)).to.equal('sessions')
      expect(await terminal.argsAfter('synapse sessions sh\t\n', 2)).to.equal('sessions|show')
      expect(await terminal.argsAfter('synapse sessions show --la\t\n', 3)).to.equal('sessions|show|--last')
    })
  })
})
