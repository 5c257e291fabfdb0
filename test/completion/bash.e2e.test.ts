import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {
  describeCompletion,
  completeInBash,
  expectedModels,
  expectHostileValuesInert,
  seedHostileSessions,
  SESSIONS,
  SHORT_IDS_BY_RECENCY,
  shellQuote,
  Terminal,
  settleCache,
} from './fixtures.js'
import {requireProgram} from '../helpers/programs.js'

describeCompletion('bash', setup => {
  function bash(script: string): {status: null | number; stderr: string; stdout: string} {
    return spawnSync('bash', ['--norc', '--noprofile', '-c', `source ~/.bashrc\n${script}`], {encoding: 'utf8', env: setup.env})
  }

  /** What bash offers for `line` (the cursor at its end). */
  const complete = (line: string) => completeInBash(setup.env, line)

  it('registers one completion function for synapse, sourced through the setup line', () => {
    expect(bash('complete -p synapse').stdout).to.equal('complete -F _synapse_values_complete synapse\n')
    expect(readFileSync(join(setup.sandbox.home, '.bashrc'), 'utf8')).to.match(
      /^\nSYNAPSE_AC_BASH_SETUP_PATH=\S+\/bash_setup && test -f .* # synapse autocomplete setup\n?$/,
    )
  })

  it('offers session ids where a command takes one, most recently updated first', () => {
    for (const line of [
      'synapse sessions show ',
      'synapse sessions delete ',
      'synapse sessions rename ',
      'synapse sessions show --last 3 ',
      'synapse sessions delete 01JX4Q2B ',
    ]) {
      expect(complete(line), line).to.deep.equal(SHORT_IDS_BY_RECENCY)
    }
    expect(complete('synapse sessions show 01JX4R')).to.deep.equal(['01JX4R7C', '01JX4R7D'])
    expect(complete('synapse sessions show 01jx5')).to.deep.equal(['01jx5aaay', '01jx5aaax'])
  })

  it('offers session ids after -s/--session, on chat and on a bare prompt', () => {
    for (const line of ['synapse -s ', 'synapse --session ', 'synapse chat -s ', 'synapse chat --session ', 'synapse "Go on" -s ', 'synapse -r -s ']) {
      expect(complete(line), line).to.deep.equal(SHORT_IDS_BY_RECENCY)
    }
    expect(complete('synapse chat -s 01JX4Q')).to.deep.equal(['01JX4Q2B'])
    // bash splits "--session=01JX5" at the "=": the candidates are what follows it.
    expect(complete('synapse --session=01JX5')).to.deep.equal(['01JX5AAAY', '01JX5AAAX'])
  })

  it('offers model names after -m/--model, and provider names after -p and for keys set', async () => {
    const models = await expectedModels()
    expect(models).to.include.members([SESSIONS.A.model, SESSIONS.B.model, SESSIONS.D.model])
    for (const line of ['synapse chat -m ', 'synapse -m ', 'synapse chat --model ', 'synapse sessions new -m ', 'synapse "Hi" -p openai -m ']) {
      expect(complete(line), line).to.deep.equal(models)
    }
    expect(complete('synapse chat -m gpt-4o')).to.deep.equal(models.filter(m => m.startsWith('gpt-4o')))
    expect(complete('synapse -p op')).to.deep.equal(['openai'])
    expect(complete('synapse keys set an')).to.deep.equal(['anthropic'])
    expect(complete('synapse models --provider op')).to.deep.equal(['openai'])
  })

  it('completes names with ":" in them as readline expects: the part after the last ":"', () => {
    expect(complete('synapse -m llama3.2:')).to.deep.equal(['latest'])
    expect(complete('synapse -m qwen')).to.deep.equal(['qwen2.5:7b'])
    expect(complete('synapse --model=qwen2.5:')).to.deep.equal(['7b'])
  })

  it('leaves everything else to oclif’s completion of commands and flags', () => {
    expect([...new Set(complete('synapse sess'))]).to.deep.equal(['sessions'])
    expect(complete('synapse sessions sh')).to.deep.equal(['show'])
    expect(complete('synapse sessions show --l')).to.deep.equal(['--last'])
    expect(complete('synapse chat --sess')).to.deep.equal(['--session'])
    // No session ids where none belong: a title, a db command, a prompt's words.
    for (const line of ['synapse sessions rename 01JX4Q2B ', 'synapse db backup ', 'synapse "Go on" ', 'synapse sessions show 01JX4Q2B --last ']) {
      expect(complete(line), line).to.not.include.members(['01JX4Q2B'])
    }
  })

  it('offers nothing, and prints nothing, when synapse cannot answer', () => {
    setup.env = {...setup.env, DATABASE_URL: 'nosuch://host/db'}
    expect(complete('synapse sessions show ')).to.deep.equal([])
  })

  describe('typed at an interactive bash', () => {
    before(function () {
      requireProgram(this, 'script')
    })

    it('inserts the completions readline receives', async () => {
      const terminal = new Terminal('bash --norc --noprofile -i', setup.env)
      try {
        // A `synapse` function that shows its arguments; completion stays registered for the name.
        terminal.type(`source ~/.bashrc; synapse() { local IFS='|'; echo "AR""GS<$*>"; }; echo REA""DY\n`)
        await terminal.until(() => /^READY/m.test(terminal.output))
        expect(await terminal.argsAfter('synapse sessions show 01JX4Q\t\n', 1)).to.equal('sessions|show|01JX4Q2B')
        expect(await terminal.argsAfter('synapse -m llama3.2:la\t\n', 2)).to.equal('-m|llama3.2:latest')
        expect(await terminal.argsAfter('synapse --model=qwen2\t\n', 3)).to.equal('--model=qwen2.5:7b')
        expect(await terminal.argsAfter('synapse sess\t\n', 4)).to.equal('sessions')
      } finally {
        await terminal.close()
      }
    })

    it('inserts values with shell syntax quoted, so that Enter passes each as one word and runs nothing', async () => {
      await seedHostileSessions(setup.sandbox)
      await settleCache(setup.sandbox, setup.env, setup.mode, setup.sandbox.root)
      const terminal = new Terminal('bash --norc --noprofile -i', setup.env)
      try {
        // In the sandbox, where a `touch pwned` that ran would leave its file.
        terminal.type(`cd ${shellQuote(setup.sandbox.root)}; source ~/.bashrc; synapse() { local IFS='|'; echo "AR""GS<$*>"; }; echo REA""DY\n`)
        await terminal.until(() => /^READY/m.test(terminal.output))
        // What readline puts on the line: each value in bash's own quoting (printf %q).
        await expectHostileValuesInert(terminal, ['bash', '-c', 'printf %q "$1"', 'bash'])
      } finally {
        await terminal.close()
      }
      expect(readdirSync(setup.sandbox.root).filter(name => name.startsWith('pwned'))).to.deep.equal([])
    })
  })
})
