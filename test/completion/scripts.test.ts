import {Config} from '@oclif/core'
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'

import {sharedScript} from '../../src/completion/scripts.js'
import {type CompletionSpec, completionSpec} from '../../src/completion/spec.js'
import {PROJECT_ROOT} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {shellQuote} from './fixtures.js'
import {requireProgram} from '../helpers/programs.js'

/** A line as words (the program first) and the index of the word being completed; what it completes as ("kind|typed"). */
const CASES: Array<[string[], number, string]> = [
  [['synapse', 'sessions', 'show', ''], 3, 'sessions|'],
  [['synapse', 'sessions', 'show', '01J'], 3, 'sessions|01J'],
  [['synapse', 'sessions', 'show', '--last', '3', ''], 5, 'sessions|'],
  [['synapse', 'sessions', 'show', 'X', ''], 4, '|'],
  [['synapse', 'sessions', 'show', '--la'], 3, '|--la'],
  [['synapse', 'sessions', 'rename', ''], 3, 'sessions|'],
  [['synapse', 'sessions', 'rename', 'X', ''], 4, '|'],
  [['synapse', 'sessions', 'delete', 'X', 'Y', ''], 5, 'sessions|'],
  [['synapse', 'sessions', 'new', '-m', ''], 4, 'models|'],
  [['synapse', 'sessions', 'list', '-n', ''], 4, '|'],
  [['synapse', 'keys', 'set', 'op'], 3, 'providers|op'],
  [['synapse', 'keys', 'remove', ''], 3, 'providers|'],
  [['synapse', 'keys', 'set', 'openai', ''], 4, '|'],
  [['synapse', 'models', '-p', ''], 3, 'providers|'],
  [['synapse', '-s', '01j'], 2, 'sessions|01j'],
  [['synapse', '-s', '', 'more', 'words'], 2, 'sessions|'],
  [['synapse', 'Hello', 'there', '-m', ''], 4, 'models|'],
  [['synapse', 'chat', '-s', 'X', '-m', 'gpt'], 5, 'models|gpt'],
  [['synapse', '--model=gp'], 1, 'models|gp'],
  [['synapse', 'chat', '--provider=op'], 2, 'providers|op'],
  [['synapse', 'chat', '--', '-s', ''], 4, '|'],
  [['synapse', 'sess'], 1, '|'],
  [['synapse', 'db', 'backup', ''], 3, '|'],
  [['synapse', 'sessions', 'search', ''], 3, '|'],
  [['synapse', 'sessions', 'search', 'zebra', '-s', ''], 5, 'sessions|'],
  [['synapse', 'sessions', 'search', '--limit', '5', 'zebra', '--model', 'gp'], 7, 'models|gp'],
  [['synapse', 'sessions', 'search', '--since', '7d', '--provider', ''], 6, 'providers|'],
  [['synapse', 'sessions', 'search', '--since', '7d', ''], 5, '|'],
  [['synapse', '--help', '-s', ''], 3, '|'],
  [['synapse', 'help', 'chat', '-s', ''], 4, '|'],
]

describe('where values complete', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let spec: CompletionSpec

  before(async () => {
    sandbox = makeSandbox()
    spec = completionSpec(await Config.load({root: PROJECT_ROOT}))
  })
  after(() => sandbox.cleanup())

  it('is read from the commands’ flags and arguments', () => {
    expect(spec.defaultCommand).to.equal('chat')
    expect(spec.rootWords).to.include.members(['autocomplete', 'chat', 'config', 'db', 'help', 'plugins', 'sessions', '--help', '-h', '--version'])
    const byId = Object.fromEntries(spec.commands.map(c => [c.id, c]))
    expect(Object.keys(byId)).to.include.members(['chat', 'sessions:delete', 'sessions:new', 'sessions:rename', 'sessions:show'])
    expect(byId['sessions:show']).to.deep.equal({args: ['sessions'], flags: [], id: 'sessions:show', optionFlags: ['--last'], variadic: false})
    expect(byId['sessions:rename']).to.deep.equal({args: ['sessions', undefined], flags: [], id: 'sessions:rename', optionFlags: [], variadic: false})
    expect(byId['sessions:delete']).to.deep.equal({args: ['sessions'], flags: [], id: 'sessions:delete', optionFlags: [], variadic: true})
    expect(byId.chat.flags).to.deep.equal([
      {kind: 'models', spellings: ['-m', '--model']},
      {kind: 'providers', spellings: ['-p', '--provider']},
      {kind: 'sessions', spellings: ['-s', '--session']},
    ])
    // The query is free text; the flags that name a session, model or provider complete their values.
    expect(byId['sessions:search']).to.deep.include({args: [undefined], id: 'sessions:search', variadic: false})
    expect(byId['sessions:search'].flags).to.deep.equal([
      {kind: 'models', spellings: ['--model']},
      {kind: 'providers', spellings: ['--provider']},
      {kind: 'sessions', spellings: ['-s', '--session']},
    ])
    expect(byId['sessions:search'].optionFlags).to.include.members(['-n', '--limit', '--role', '--since', '--until', '--offset'])
    expect(byId.chat.optionFlags).to.include.members(['--system', '-t', '--title', '--temperature', '--max-tokens'])
  })

  for (const shell of ['bash', 'zsh']) {
    it(`is decided alike by ${shell}`, function () {
      requireProgram(this, shell)
      const calls = CASES.map(
        ([words, cword]) => `__synapse_values_at ${cword} ${words.map(w => shellQuote(w)).join(' ')}; printf '%s|%s\\n' "$__synapse_kind" "$__synapse_cur"`,
      )
      const {status, stderr, stdout} = spawnSync(
        shell,
        shell === 'zsh' ? ['-f', '-c', `${sharedScript(spec)}\n${calls.join('\n')}`] : ['--norc', '-c', `${sharedScript(spec)}\n${calls.join('\n')}`],
        {encoding: 'utf8', env: sandbox.env},
      )
      expect({status, stderr}).to.deep.equal({status: 0, stderr: ''})
      const got = stdout.split('\n').slice(0, -1)
      expect(CASES.map(([words, cword], i) => [words.join(' '), cword, got[i]])).to.deep.equal(
        CASES.map(([words, cword, kind]) => [words.join(' '), cword, kind]),
      )
    })
  }

  it('lets an argument that completes nothing come before a repeated one that does', function () {
    requireProgram(this, 'bash')
    const fake: CompletionSpec = {
      bin: 'synapse',
      commands: [{args: [undefined, 'sessions'], flags: [], id: 'sessions:export', optionFlags: ['-o', '--output'], variadic: true}],
      rootWords: ['sessions'],
    }
    const script = `${sharedScript(fake)}
for words in 'sessions export ""' 'sessions export dir ""' 'sessions export dir a -o f ""'; do
  eval "set -- $words"; __synapse_values_at $(($# + 0)) synapse "$@"; printf '[%s]' "$__synapse_kind"
done`
    expect(spawnSync('bash', ['--norc', '-c', script], {encoding: 'utf8'}).stdout).to.equal('[][sessions][sessions]')
  })
})
