import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {join} from 'node:path'

import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {RUN_JS} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {type Exit, testRuntime} from '../helpers/spawn.js'

/**
 * bin/run.js under the tests' runtime, its stdout read by a reader that closes its end after
 * `linesBeforeClosing` lines (0: before anything arrives, as a pager quit at once). Resolves with what
 * the reader saw and how synapse ended.
 */
async function intoClosingReader(
  sandbox: Sandbox,
  args: string[],
  options: {env?: NodeJS.ProcessEnv; linesBeforeClosing: number; onClosed?: (stdin: NodeJS.WritableStream) => void},
): Promise<Exit> {
  const runtime = testRuntime()
  const [command, ...prefix] = runtime.command
  const child = spawn(command, [...prefix, RUN_JS, ...args], {env: {...sandbox.env, ...runtime.env, ...options.env}})
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const close = () => {
    child.stdout.destroy()
    options.onClosed?.(child.stdin)
  }

  if (options.linesBeforeClosing === 0) close()
  else {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (child.stdout.destroyed) return
      stdout += chunk
      const lines = stdout.split('\n')
      if (lines.length > options.linesBeforeClosing) {
        stdout = `${lines.slice(0, options.linesBeforeClosing).join('\n')}\n`
        close()
      }
    })
  }

  if (!options.onClosed) child.stdin.end()
  return new Promise(resolve => {
    child.on('close', (code, signal) => resolve({code, signal, stderr, stdout}))
  })
}

/**
 * A reader that goes away (`synapse sessions list | head -1`, a pager quit early): synapse stops at
 * once, quietly, with 141. Run again under Deno (test/deno/mocharc.json), whose console drops a write
 * to a closed pipe where Node's reports it.
 */
describe('into a closed stdout (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  it('stops quietly with 141 when the reader is gone before --help is written', async () => {
    const exit = await intoClosingReader(sandbox, ['--help'], {linesBeforeClosing: 0})
    expect(exit).to.deep.equal({code: 141, signal: null, stderr: '', stdout: ''})
  })

  it('stops quietly with 141 when the reader closes after one line of a long sessions list', async () => {
    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    try {
      for (let i = 0; i < 2000; i++) await store.create({title: `Session ${i} ${'x'.repeat(300)}`})
    } finally {
      await store.close()
    }

    const exit = await intoClosingReader(sandbox, ['sessions', 'list', '--all'], {env: {SYNAPSE_MAX_SESSIONS: '0'}, linesBeforeClosing: 1})
    expect({...exit, stdout: exit.stdout.split('\t')[0].length}).to.deep.equal({code: 141, signal: null, stderr: '', stdout: 26})
  })

  it('stops quietly with 141 when the reader closes after one line of sessions show', async () => {
    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    let id: string
    try {
      id = (await store.create({title: 'Long'})).id
      await store.append(
        id,
        Array.from({length: 2000}, (_, i) => ({content: `Message ${i}: ${'y'.repeat(500)}`, role: i % 2 === 0 ? ('user' as const) : ('assistant' as const)})),
      )
    } finally {
      await store.close()
    }

    const exit = await intoClosingReader(sandbox, ['sessions', 'show', id], {linesBeforeClosing: 1})
    expect({code: exit.code, signal: exit.signal, stderr: exit.stderr}).to.deep.equal({code: 141, signal: null, stderr: ''})
    expect(exit.stdout).to.match(/^[^\n]+\n$/)
  })

  it('stops quietly with 141 when the reader closes after one line of an export', async () => {
    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    try {
      // jsonl is a line a session: enough of them, and long enough, that most are still to come.
      for (let n = 0; n < 40; n++) {
        const {id} = await store.create({title: `Long ${n}`})
        await store.append(
          id,
          Array.from({length: 100}, (_, i) => ({content: `Message ${i}: ${'e'.repeat(500)}`, role: 'user' as const})),
        )
      }
    } finally {
      await store.close()
    }

    for (const format of ['jsonl', 'markdown']) {
      const exit = await intoClosingReader(sandbox, ['sessions', 'export', '--all', '--format', format], {linesBeforeClosing: 1})
      expect({code: exit.code, format, signal: exit.signal, stderr: exit.stderr}).to.deep.equal({code: 141, format, signal: null, stderr: ''})
    }
  })

  describe('with a provider', () => {
    let server: FakeOpenAIServer

    beforeEach(async () => {
      server = await FakeOpenAIServer.start()
    })
    afterEach(async () => server.close())

    it('stops quietly with 141 when the reader closes after the first line of a streaming reply', async () => {
      server.reply(['First line.\n', ...Array.from({length: 200}, () => `${'z'.repeat(8191)}\n`)])
      const exit = await intoClosingReader(sandbox, ['Tell me a lot'], {env: {OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url}, linesBeforeClosing: 1})
      expect(exit).to.deep.equal({code: 141, signal: null, stderr: '', stdout: 'First line.\n'})
    })

    it('stops quietly with 141 when the REPL writes after its reader has gone', async () => {
      const exit = await intoClosingReader(sandbox, ['-r'], {
        env: {OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url},
        linesBeforeClosing: 1,
        // Only once the reader is gone does the REPL get something to answer.
        onClosed: stdin => stdin.write('/help\n'),
      })
      expect({code: exit.code, signal: exit.signal, stderr: exit.stderr}).to.deep.equal({code: 141, signal: null, stderr: ''})
      expect(exit.stdout).to.match(/^synapse · session /)
    })
  })
})
