import {expect} from 'chai'
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {MAX_HISTORY_ENTRY_CHARS, REPL_HISTORY_LIMIT, ReplHistory, replHistoryPath} from '../../src/chat/repl-history.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

describe('ReplHistory', () => {
  let sandbox: Sandbox
  let file: string

  beforeEach(() => {
    sandbox = makeSandbox()
    file = replHistoryPath(sandbox.env)
  })
  afterEach(() => sandbox.cleanup())

  it('lives at $XDG_STATE_HOME/synapse/repl_history, else under ~/.local/state; a relative XDG_STATE_HOME is ignored', () => {
    expect(file).to.equal(join(sandbox.root, 'state', 'synapse', 'repl_history'))
    expect(replHistoryPath({HOME: '/home/ada'})).to.equal('/home/ada/.local/state/synapse/repl_history')
    expect(replHistoryPath({HOME: '/home/ada', XDG_STATE_HOME: 'relative/state'})).to.equal('/home/ada/.local/state/synapse/repl_history')
  })

  it('starts empty without a file, and creates the file 0600 in a 0700 directory at the first entry', () => {
    const history = ReplHistory.load(file)
    expect(history.entries).to.deep.equal([])
    expect(existsSync(dirname(file))).to.equal(false)

    history.add('first')

    expect(statSync(file).mode & 0o777).to.equal(0o600)
    expect(statSync(dirname(file)).mode & 0o777).to.equal(0o700)
  })

  it('round-trips entries of several lines, quotes and control characters, most recent first', () => {
    const history = ReplHistory.load(file)
    const awkward = ['line one\nline two', 'say "hi"\\n', 'tab\there', 'bell\u0007 and escape \u001B[31m', 'plain']
    for (const entry of awkward) history.add(entry)

    expect(readFileSync(file, 'utf8').split('\n')).to.have.length(awkward.length + 1)
    expect(ReplHistory.load(file).entries).to.deep.equal([...awkward].reverse())
  })

  it('keeps each entry once, at its latest use, and leaves out blank and over-long ones', () => {
    const history = ReplHistory.load(file)
    history.add('a')
    history.add('b')
    history.add('a')
    history.add('   ')
    history.add('x'.repeat(MAX_HISTORY_ENTRY_CHARS + 1))

    expect(history.entries).to.deep.equal(['a', 'b'])
    expect(ReplHistory.load(file).entries).to.deep.equal(['a', 'b'])
  })

  it('skips lines it cannot read (a crash cut one short, a hand edit) and keeps the rest', () => {
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, '"one"\n{"not": "a string"}\n"two\nnot json\n42\n"three"\n', {mode: 0o600})

    expect(ReplHistory.load(file).entries).to.deep.equal(['three', 'one'])
  })

  it('offers at most the limit, the most recent, and compacts a file grown past twice the limit', () => {
    mkdirSync(dirname(file), {recursive: true})
    const count = 2 * REPL_HISTORY_LIMIT + 1
    writeFileSync(file, Array.from({length: count}, (_, i) => `"entry ${i}"\n`).join(''), {mode: 0o600})

    const history = ReplHistory.load(file)

    expect(history.entries).to.have.length(REPL_HISTORY_LIMIT)
    expect(history.entries[0]).to.equal(`entry ${count - 1}`)
    expect(history.entries.at(-1)).to.equal(`entry ${count - REPL_HISTORY_LIMIT}`)
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    expect(lines).to.have.length(REPL_HISTORY_LIMIT)
    expect(lines.at(-1)).to.equal(`"entry ${count - 1}"`)
    expect(statSync(file).mode & 0o777).to.equal(0o600)
  })

  it('makes a file others could read private again', () => {
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, '"old"\n')
    chmodSync(file, 0o644)

    expect(ReplHistory.load(file).entries).to.deep.equal(['old'])
    expect(statSync(file).mode & 0o777).to.equal(0o600)
  })

  it('with persist: false offers the earlier entries and writes nothing (--no-save)', () => {
    ReplHistory.load(file).add('kept')
    const history = ReplHistory.load(file, {persist: false})

    history.add('not written')

    expect(history.entries).to.deep.equal(['not written', 'kept'])
    expect(readFileSync(file, 'utf8')).to.equal('"kept"\n')
  })

  it('reports a file it cannot read, then the first failed write only, and goes on in memory', () => {
    // A directory where the file should be: every write fails, whoever runs the test.
    mkdirSync(file, {recursive: true})
    const errors: unknown[] = []
    const history = ReplHistory.load(file, {onError: error => errors.push(error)})
    history.add('one')
    history.add('two')

    expect(history.entries).to.deep.equal(['two', 'one'])
    expect(errors.map(error => (error as NodeJS.ErrnoException).code)).to.deep.equal(['EISDIR', 'EISDIR'])
  })
})
