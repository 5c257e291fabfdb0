import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {join} from 'node:path'

import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {requireProgram} from '../helpers/programs.js'
import {synapse, synapseCommandLine, testRuntime} from '../helpers/spawn.js'

// OSC 0 retitles the window, CSI 2J clears the screen, U+009B is the one-character C1 CSI, a
// lone CR lets later text overwrite what came before it on the line, and U+202E (RIGHT-TO-LEFT
// OVERRIDE) makes a terminal that does bidi show the rest of the line reversed.
const HOSTILE = 'x\u001B]0;pwned\u0007y\u001B[2Jz\u009B1mw\rFAKE\u202Eevil'
const SHOWN = String.raw`x\x1b]0;pwned\x07y\x1b[2Jz\x9b1mw\rFAKE\u202eevil`
// What a terminal would act on: any control character but the newline and tab of a body.
const INTERPRETED = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/

/**
 * Titles, models, system prompts, metadata and messages are stored text, whatever wrote them (a
 * model, an import, another program sharing the database): `sessions list` and `sessions show`
 * print them as visible escapes, on a terminal and in a pipe; `--json` and exports keep every byte.
 */
describe('stored text on a terminal (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let id: string

  before(function () {
    requireProgram(this, 'script')
  })

  beforeEach(async () => {
    sandbox = makeSandbox()
    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    const session = await store.create({
      metadata: {tag: HOSTILE},
      model: `gpt-${HOSTILE}`,
      provider: 'openai',
      systemPrompt: `Be ${HOSTILE}`,
      title: `T ${HOSTILE}`,
    })
    await store.append(session.id, [
      {content: `q ${HOSTILE}\nsecond line\tafter a tab`, role: 'user'},
      {content: `a ${HOSTILE}`, model: `gpt-${HOSTILE}`, role: 'assistant'},
    ])
    const untitled = await store.create({})
    await store.append(untitled.id, [{content: `preview ${HOSTILE}`, role: 'user'}])
    await store.close()
    id = session.id
  })
  afterEach(() => sandbox.cleanup())

  /** synapse on a pseudo-terminal, in colour: everything it wrote, as the terminal received it. */
  async function onTerminal(args: string[]): Promise<string> {
    const env: NodeJS.ProcessEnv = {...sandbox.env, ...testRuntime().env, FORCE_COLOR: '1', TERM: 'xterm-256color'}
    delete env.NO_COLOR
    const child = spawn('script', ['-qfec', synapseCommandLine(args), '/dev/null'], {env})
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    const code = await new Promise(resolve => child.on('close', resolve))
    expect(code, output).to.equal(0)
    // synapse's own colours are the only escape sequences allowed; the pty turns \n into \r\n.
    return output.replaceAll(/\u001B\[\d+(?:;\d+)*m/g, '').replaceAll('\r\n', '\n')
  }

  it('sessions list shows titles, previews and models escaped, on a terminal and in a pipe', async () => {
    const terminal = await onTerminal(['sessions', 'list'])
    expect(terminal).not.to.match(INTERPRETED)
    expect(terminal).to.include(`preview ${SHOWN}`.slice(0, 30))
    expect(terminal).to.include(`T ${SHOWN}`.slice(0, 30))

    const piped = await synapse(sandbox, ['sessions', 'list'])
    expect(piped.code).to.equal(0)
    expect(piped.stdout).not.to.match(INTERPRETED)
    const rows = piped.stdout
      .trimEnd()
      .split('\n')
      .map(line => line.split('\t'))
    // One line per row: white space (the CR among it) folds to a space, the other controls are escaped.
    const folded = SHOWN.replace(String.raw`\r`, ' ')
    expect(rows.map(row => row.slice(1, 3))).to.deep.equal([
      [`preview ${folded}`, ''],
      [`T ${folded}`, `openai/gpt-${folded}`],
    ])
  })

  it('sessions show escapes headers, system prompt, metadata and bodies, keeping a body’s newlines and tabs', async () => {
    const terminal = await onTerminal(['sessions', 'show', id])
    expect(terminal).not.to.match(INTERPRETED)
    const piped = await synapse(sandbox, ['sessions', 'show', id])
    expect(piped.code).to.equal(0)
    for (const output of [terminal, piped.stdout]) {
      expect(output).to.include(`T ${SHOWN}`)
      expect(output).to.include(`model openai/gpt-${SHOWN}`)
      expect(output).to.include(`system: Be ${SHOWN}`)
      expect(output).to.include(`meta: tag=${SHOWN}`)
      expect(output).to.include(`\nq ${SHOWN}\nsecond line\tafter a tab\n`)
      expect(output).to.include(`\na ${SHOWN}\n`)
      expect(output).to.include(`· gpt-${SHOWN}`)
    }
    expect(piped.stdout).not.to.match(INTERPRETED)
  })

  it('sessions prune and sessions keep name sessions escaped', async () => {
    const folded = SHOWN.replace(String.raw`\r`, ' ')
    // The titled session is the older one: beyond max_sessions 1.
    const pruned = await synapse(sandbox, ['sessions', 'prune', '--max-sessions', '1', '--dry-run'])
    expect(pruned.code, pruned.stderr).to.equal(0)
    expect(pruned.stdout).not.to.match(INTERPRETED)
    expect(pruned.stdout.split('\n')[1].split('\t').slice(0, 3)).to.deep.equal([id, `T ${folded}`, `openai/gpt-${folded}`])
    const kept = await synapse(sandbox, ['sessions', 'keep', id])
    expect(kept.code, kept.stderr).to.equal(0)
    expect(kept.stdout).not.to.match(INTERPRETED)
    expect(kept.stdout.split('\n')[0]).to.equal(`Kept: ${id}  T ${folded}`)
  })

  it('--json and exports keep the exact text', async () => {
    const listed = await synapse(sandbox, ['sessions', 'list', '--json'])
    expect(JSON.parse(listed.stdout).map((s: {preview: string; title: null | string}) => s.title ?? s.preview)).to.deep.equal([
      `preview ${HOSTILE}`,
      `T ${HOSTILE}`,
    ])

    const shown = JSON.parse((await synapse(sandbox, ['sessions', 'show', id, '--json'])).stdout)
    expect(shown).to.deep.include({metadata: {tag: HOSTILE}, model: `gpt-${HOSTILE}`, systemPrompt: `Be ${HOSTILE}`, title: `T ${HOSTILE}`})
    expect(shown.messages.map((m: {content: string}) => m.content)).to.deep.equal([`q ${HOSTILE}\nsecond line\tafter a tab`, `a ${HOSTILE}`])

    const exported = await synapse(sandbox, ['sessions', 'export', id])
    expect(exported.code).to.equal(0)
    const snapshot = JSON.parse(exported.stdout.trimEnd())
    expect(snapshot.session?.title ?? snapshot.title).to.equal(`T ${HOSTILE}`)
    expect(exported.stdout).to.include(JSON.stringify(`a ${HOSTILE}`))
  })

  it('on a terminal, --json and exports show stored text escaped, as the same JSON value', async () => {
    const shown = await onTerminal(['sessions', 'show', id, '--json'])
    expect(shown).not.to.match(INTERPRETED)
    expect(JSON.parse(shown)).to.deep.include({title: `T ${HOSTILE}`})
    const exported = await onTerminal(['sessions', 'export', id])
    expect(exported).not.to.match(INTERPRETED)
    expect(JSON.parse(exported.trimEnd()).messages.map((m: {content: string}) => m.content)).to.deep.equal([
      `q ${HOSTILE}\nsecond line\tafter a tab`,
      `a ${HOSTILE}`,
    ])
    // Markdown is for reading: a body keeps its newlines and tabs, every other control is a visible escape.
    const markdown = await onTerminal(['sessions', 'export', id, '--format', 'markdown'])
    expect(markdown).not.to.match(INTERPRETED)
    expect(markdown).to.include(`a ${SHOWN}`)
    expect(markdown).to.include('second line\tafter a tab')
  })

  it('an error that quotes a stored value shows it escaped', async () => {
    // A prefix that matches nothing is quoted back; one with an ESC in it must not reach the terminal raw.
    const {code, stderr} = await synapse(sandbox, ['sessions', 'show', `01\u001B]0;pwned\u0007`])
    expect(code).to.equal(1)
    expect(stderr).not.to.match(INTERPRETED)
    expect(stderr).to.include(String.raw`\x1b]0;pwned\x07`)
  })
})
