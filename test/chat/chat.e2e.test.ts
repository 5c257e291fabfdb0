import {expect} from 'chai'
import Database from 'better-sqlite3'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Message, Session} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {SynapseLockHolder} from '../helpers/lock-holder.js'
import {mountTmpfs, type TmpfsMount} from '../helpers/mounts.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import {closedPort} from '../helpers/ports.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {synapse, SynapseProcess} from '../helpers/spawn.js'

const API_KEY = 'sk-test-5f3c9a1e'

/**
 * The chat command end to end: `bin/run.js` as a child process, the real openai SDK inside it, and a
 * fake OpenAI-compatible server on 127.0.0.1 in this process.
 */
describe('chat (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer
  let dbPath: string

  useOpenAISandbox({apiKey: API_KEY}, made => ({sandbox, server} = made))
  beforeEach(() => {
    dbPath = join(sandbox.configDir, 'sessions.db')
  })

  function writeConfig(toml: string): void {
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(join(sandbox.configDir, 'config.toml'), toml)
  }

  async function stored(): Promise<Array<{messages: Message[]; session: Session}>> {
    const store = await openSqliteStore({path: dbPath})
    try {
      const sessions = await store.list({limit: 100})
      return Promise.all(sessions.map(async session => ({messages: await store.messages(session.id), session})))
    } finally {
      await store.close()
    }
  }

  function sent(index = -1): Array<[string, string]> {
    const request = server.chatRequests.at(index)
    return request!.chat!.messages.map(m => [m.role, m.content])
  }

  describe('one-shot', () => {
    it('-m "" and -p "" are usage errors: nothing is sent or stored under an empty name', async () => {
      for (const [flag, what] of [
        ['-m', 'model'],
        ['-p', 'provider'],
      ]) {
        for (const value of ['', '  ']) {
          const {code, stderr} = await synapse(sandbox, [flag, value, 'Hello'])
          expect(stderr, `${flag} "${value}"`).to.equal(
            `Error: The ${what} name is empty.\n  → Give a ${what} name with ${flag} ("synapse models" lists them), or leave out ${flag} to use the session's or the configured one.\n`,
          )
          expect(code).to.equal(2)
        }
      }
      expect(server.chatRequests).to.have.length(0)
      expect(existsSync(dbPath) ? await stored() : []).to.deep.equal([])
    })

    it('streams the reply to stdout and saves both messages with usage and timing', async () => {
      server.reply(['Write-ahead', ' logging', ' keeps readers', ' unblocked.'], {usage: {inputTokens: 21, outputTokens: 9}})
      const {code, stderr, stdout} = await synapse(sandbox, ['chat', 'What is WAL?'])
      expect(stderr).to.equal('')
      expect(code).to.equal(0)
      expect(stdout).to.equal('Write-ahead logging keeps readers unblocked.\n')
      const [{messages, session}] = await stored()
      expect(session).to.deep.include({model: 'gpt-5.4-mini', provider: 'openai'})
      expect(messages.map(m => [m.role, m.content, m.status])).to.deep.equal([
        ['user', 'What is WAL?', 'complete'],
        ['assistant', 'Write-ahead logging keeps readers unblocked.', 'complete'],
      ])
      expect(messages[1]).to.deep.include({finishReason: 'stop', inputTokens: 21, model: 'gpt-5.4-mini', outputTokens: 9, provider: 'openai'})
      expect(messages[1].durationMs).to.be.a('number').and.to.be.at.least(0)
      const [request] = server.chatRequests
      expect(request.headers.authorization).to.equal(`Bearer ${API_KEY}`)
      expect(request.body).to.deep.include({stream: true, stream_options: {include_usage: true}})
    })

    it('routes a bare prompt to chat, all words joined', async () => {
      server.reply(['Hi!'])
      const {code, stdout} = await synapse(sandbox, ['Hello', 'there'])
      expect(code).to.equal(0)
      expect(stdout).to.equal('Hi!\n')
      expect(sent()).to.deep.equal([['user', 'Hello there']])
    })

    it('routes a prompt that starts with a flag, -v (verbose) included, to chat', async () => {
      server.reply(['Timed.'], {usage: {inputTokens: 3, outputTokens: 2}})
      const {code, stderr, stdout} = await synapse(sandbox, ['-v', 'How long?'])
      expect(code).to.equal(0)
      expect(stdout).to.equal('Timed.\n')
      expect(stderr).to.match(
        /^openai\/gpt-5\.4-mini · \d+ ms · first token \d+ ms · 3→2 tokens · (?:cost unknown|<?\$[\d.]+) · 0 earlier messages left out of the context\n$/,
      )
    })

    it('sends the system prompt first and stores it on the session', async () => {
      server.reply(['Bonjour.'])
      await synapse(sandbox, ['--system', 'Answer in French.', '--title', 'French', 'Hello'])
      expect(sent()).to.deep.equal([
        ['system', 'Answer in French.'],
        ['user', 'Hello'],
      ])
      const [{session}] = await stored()
      expect(session).to.deep.include({systemPrompt: 'Answer in French.', title: 'French'})
    })

    it('passes model, temperature and max tokens through', async () => {
      server.reply(['ok'])
      await synapse(sandbox, ['-m', 'gpt-fake-large', '--temperature', '0.2', '--max-tokens', '64', 'Hi'])
      expect(server.chatRequests[0].chat).to.deep.include({maxTokens: 64, model: 'gpt-fake-large', temperature: 0.2})
    })

    it('returns one JSON object with --json and streams no text', async () => {
      server.reply(['4'], {usage: {inputTokens: 7, outputTokens: 1}})
      const {code, stdout} = await synapse(sandbox, ['--json', '2+2?'])
      expect(code).to.equal(0)
      const result = JSON.parse(stdout)
      const [{session}] = await stored()
      expect(result).to.deep.include({
        finishReason: 'stop',
        model: 'gpt-5.4-mini',
        provider: 'openai',
        reply: '4',
        saved: true,
        sessionId: session.id,
        status: 'complete',
        usage: {cachedInputTokens: null, inputTokens: 7, outputTokens: 1, tokenSource: 'provider'},
      })
      expect(Object.keys(result.cost).sort()).to.deep.equal(['costSource', 'costUsd'])
      // What the README lists, no more and no less.
      expect(Object.keys(result).sort()).to.deep.equal([
        'cost',
        'durationMs',
        'finishReason',
        'model',
        'provider',
        'reply',
        'saved',
        'sessionId',
        'status',
        'usage',
      ])
    })

    it('--json: a turn that fails once its question is stored names the session and the question, so that a script can go on with -s', async () => {
      writeConfig('[providers.openai]\nmax_retries = 0\n')
      server.reply(['Half a'], {dropAfterChunks: 1})
      server.fail(500, 'Server on fire')
      server.reply(['Whole.'])

      const dropped = await synapse(sandbox, ['--json', 'First question'])
      expect(dropped.code).to.equal(1)
      const droppedJson = JSON.parse(dropped.stdout)
      const [{messages, session}] = await stored()
      expect(droppedJson).to.deep.equal({error: droppedJson.error, questionId: messages[0].id, sessionId: session.id})
      expect(droppedJson.error.message).to.match(/^The connection to the openai provider at .* broke in the middle of its reply/)
      expect(messages.map(m => [m.role, m.content, m.status])).to.deep.equal([
        ['user', 'First question', 'complete'],
        ['assistant', 'Half a', 'interrupted'],
      ])

      const failed = await synapse(sandbox, ['--json', '-s', droppedJson.sessionId, 'Second question'])
      expect(failed.code).to.equal(1)
      const failedJson = JSON.parse(failed.stdout)
      const [{messages: after}] = await stored()
      const second = after.find(m => m.content === 'Second question')!
      expect(second.status).to.equal('error')
      expect(failedJson).to.deep.equal({
        error: {
          code: 'PROVIDER_ERROR',
          exitCode: 1,
          message: 'The openai provider failed with HTTP 500: Server on fire',
          suggestions: ['Try again later; the fault is on the server side.'],
        },
        questionId: second.id,
        sessionId: session.id,
      })

      const continued = await synapse(sandbox, ['--json', '-s', failedJson.sessionId, 'Third question'])
      expect(continued.code).to.equal(0)
      expect(JSON.parse(continued.stdout)).to.deep.include({reply: 'Whole.', sessionId: session.id})
    })

    it('--json: an error with nothing stored to continue carries no session: refused before the start, or under --no-save', async () => {
      writeConfig('[providers.openai]\nmax_retries = 0\n')
      server.fail(500, 'Server on fire')
      const unsaved = await synapse(sandbox, ['--json', '--no-save', 'Not kept'])
      expect(unsaved.code).to.equal(1)
      expect(Object.keys(JSON.parse(unsaved.stdout))).to.deep.equal(['error'])
      const refused = await synapse(sandbox, ['--json', '-p', 'mistral', 'Hello'])
      expect(Object.keys(JSON.parse(refused.stdout))).to.deep.equal(['error'])
      expect(existsSync(dbPath) ? await stored() : []).to.deep.equal([])
    })
  })

  describe('continuing', () => {
    it('-c sends the earlier exchange back and adds to the same session', async () => {
      server.enqueue({chunks: ['Paris.'], type: 'reply'}, {chunks: ['About 2.1 million.'], type: 'reply'})
      await synapse(sandbox, ['-m', 'gpt-fake-large', 'Capital of France?'])
      const {code, stdout} = await synapse(sandbox, ['-c', 'Its population?'])
      expect(code).to.equal(0)
      expect(stdout).to.equal('About 2.1 million.\n')
      expect(sent()).to.deep.equal([
        ['user', 'Capital of France?'],
        ['assistant', 'Paris.'],
        ['user', 'Its population?'],
      ])
      // The session remembers its model.
      expect(server.chatRequests[1].chat!.model).to.equal('gpt-fake-large')
      const sessions = await stored()
      expect(sessions).to.have.length(1)
      expect(sessions[0].messages.map(m => m.content)).to.deep.equal(['Capital of France?', 'Paris.', 'Its population?', 'About 2.1 million.'])
    })

    it('-s continues the session named by a lower-case prefix, not the latest', async () => {
      server.enqueue({chunks: ['A1'], type: 'reply'}, {chunks: ['B1'], type: 'reply'}, {chunks: ['A2'], type: 'reply'})
      await synapse(sandbox, ['first topic'])
      await synapse(sandbox, ['second topic'])
      const first = (await stored()).find(s => s.messages[0].content === 'first topic')!.session
      const {code} = await synapse(sandbox, ['-s', first.id.slice(0, 22).toLowerCase(), 'back to the first'])
      expect(code).to.equal(0)
      expect(sent()).to.deep.equal([
        ['user', 'first topic'],
        ['assistant', 'A1'],
        ['user', 'back to the first'],
      ])
    })

    it('-s continues the session named by its exact title, and a forked session goes on from the fork point', async () => {
      server.enqueue({chunks: ['A1'], type: 'reply'}, {chunks: ['B1'], type: 'reply'}, {chunks: ['A2'], type: 'reply'}, {chunks: ['F1'], type: 'reply'})
      await synapse(sandbox, ['-t', 'Release notes', 'first topic'])
      await synapse(sandbox, ['second topic'])
      expect((await synapse(sandbox, ['-s', 'Release notes', 'back to the first'])).code).to.equal(0)
      expect(sent()).to.deep.equal([
        ['user', 'first topic'],
        ['assistant', 'A1'],
        ['user', 'back to the first'],
      ])
      const fork = await synapse(sandbox, ['sessions', 'fork', 'Release notes', '--at', '1', '--title', 'Release notes, again'])
      expect(fork.code).to.equal(0)
      expect((await synapse(sandbox, ['-s', 'Release notes, again', 'another way'])).code).to.equal(0)
      expect(sent()).to.deep.equal([
        ['user', 'first topic'],
        ['assistant', 'A1'],
        ['user', 'another way'],
      ])
      const forked = (await stored()).find(s => s.session.id === fork.stdout.trim())!
      expect(forked.messages.map(m => m.content)).to.deep.equal(['first topic', 'A1', 'another way', 'F1'])
      expect((await stored()).find(s => s.session.title === 'Release notes')!.messages).to.have.length(4)
    })

    it('-c with no session yet is a one-line error, exit 1', async () => {
      const {code, stderr} = await synapse(sandbox, ['-c', 'hello?'])
      expect(code).to.equal(1)
      expect(stderr).to.equal('Error: There is no session to continue yet.\n  → Start one with: synapse "Hello"\n')
      expect(server.chatRequests).to.have.length(0)
    })

    it('leaves the oldest turns out of the request above max_context_messages, never out of storage', async () => {
      writeConfig('[session]\nmax_context_messages = 2\n')
      server.enqueue({chunks: ['a1'], type: 'reply'}, {chunks: ['a2'], type: 'reply'}, {chunks: ['a3'], type: 'reply'})
      await synapse(sandbox, ['q1'])
      await synapse(sandbox, ['-c', 'q2'])
      const {stderr} = await synapse(sandbox, ['-c', '--verbose', 'q3'])
      expect(sent()).to.deep.equal([
        ['user', 'q2'],
        ['assistant', 'a2'],
        ['user', 'q3'],
      ])
      expect(stderr).to.match(/· 2 earlier messages left out of the context\n$/)
      expect((await stored())[0].messages).to.have.length(6)
    })
  })

  describe('input from a pipe', () => {
    it('refuses binary input (a NUL byte), exit 2: nothing is sent or stored', async () => {
      const {code, stderr, stdout} = await synapse(sandbox, ['describe this'], {input: 'PNG\r\n\u001A\n\u0000\u0000\u0000\rIHDR'})
      expect({code, stderr, stdout}).to.deep.equal({
        code: 2,
        stderr:
          'Error: The piped input is not text: it holds NUL bytes, as a binary file does; nothing was sent.\n' +
          '  → Pipe in text: the part of the file that matters, or what a tool such as strings, pdftotext or xxd makes of it.\n',
        stdout: '',
      })
      expect(server.chatRequests).to.have.length(0)
      expect(existsSync(dbPath) ? await stored() : []).to.deep.equal([])
    })

    it('appends piped text to the prompt', async () => {
      server.reply(['Summary.'])
      await synapse(sandbox, ['summarise this'], {input: 'line one\nline two\n'})
      expect(sent()).to.deep.equal([['user', 'summarise this\n\nline one\nline two']])
    })

    it('uses piped text alone as the prompt', async () => {
      server.reply(['ok'])
      const {code} = await synapse(sandbox, ['chat'], {input: 'just the pipe\n'})
      expect(code).to.equal(0)
      expect(sent()).to.deep.equal([['user', 'just the pipe']])
    })

    it('with neither a prompt nor piped text is a usage error, exit 2', async () => {
      const {code, stderr} = await synapse(sandbox, ['chat'])
      expect(code).to.equal(2)
      expect(stderr.split('\n')[0]).to.equal('Error: No prompt: give one as an argument, pipe text in, or start the REPL with -r.')
    })
  })

  describe('--no-save', () => {
    it('writes nothing, even when continuing', async () => {
      server.enqueue({chunks: ['saved'], type: 'reply'}, {chunks: ['ephemeral'], type: 'reply'}, {chunks: ['fresh'], type: 'reply'})
      await synapse(sandbox, ['keep me'])
      const before = await stored()
      const continued = await synapse(sandbox, ['-c', '--no-save', '--json', 'forget me'])
      expect(JSON.parse(continued.stdout)).to.deep.include({reply: 'ephemeral', saved: false})
      expect(sent()).to.deep.equal([
        ['user', 'keep me'],
        ['assistant', 'saved'],
        ['user', 'forget me'],
      ])
      const fresh = await synapse(sandbox, ['--no-save', 'not kept'])
      expect(fresh.stdout).to.equal('fresh\n')
      expect(await stored()).to.deep.equal(before)
    })
  })

  describe('the REPL', () => {
    it('--json with -r is a usage error in JSON, not the REPL talking in text', async () => {
      const {code, stdout} = await synapse(sandbox, ['-r', '--json'], {input: 'Hello\n'})
      expect(JSON.parse(stdout)).to.deep.equal({
        error: {code: 'INVALID_INPUT', exitCode: 2, message: '--json and -r/--repl cannot be used together.', suggestions: ['See "synapse chat --help".']},
      })
      expect(code).to.equal(2)
      expect(server.chatRequests).to.have.length(0)
    })

    it('on a pipe, goes on after a failed turn (a dropped connection, a server error) and then exits 1, as a script needs', async () => {
      writeConfig('[providers.openai]\nmax_retries = 0\n')
      server.reply(['Cut'], {dropAfterChunks: 1})
      server.fail(500, 'Server on fire')
      server.reply(['Third fine.'])
      const {code, stderr, stdout} = await synapse(sandbox, ['-r'], {input: 'hi\nthere\nagain\n'})
      expect(code).to.equal(1)
      expect(stdout.split('\n').slice(1)).to.deep.equal(['Cut', 'Third fine.', ''])
      expect(stderr.split('\n').filter(line => line.startsWith('Error:'))).to.have.length(2)
      expect(server.chatRequests).to.have.length(3)

      server.reply(['All fine.'])
      expect((await synapse(sandbox, ['-r', '-c'], {input: 'fine?\n'})).code, 'a piped run without a failure').to.equal(0)
    })

    it('talks, runs slash commands and keeps everything', async () => {
      server.enqueue({chunks: ['One.'], type: 'reply'}, {chunks: ['Two.'], type: 'reply'}, {chunks: ['Three.'], type: 'reply'})
      const input = ['first', '/count', '/model gpt-fake-large', 'second', '/session', '/new', 'third', '/history', '/exit', 'never sent', ''].join('\n')
      const {code, stderr, stdout} = await synapse(sandbox, ['-r'], {input})
      expect(stderr).to.equal('')
      expect(code).to.equal(0)
      const lines = stdout.split('\n')
      expect(lines[0]).to.match(/^synapse · session [0-9A-Z]{26} · openai\/gpt-5\.4-mini · \/help for commands, \/exit or Ctrl-D to leave$/)
      expect(lines.slice(1, 5)).to.deep.equal(['One.', '2 messages in this session.', 'Using openai/gpt-fake-large from now on.', 'Two.'])
      expect(lines[5]).to.match(/^Session [0-9A-Z]{26} · openai\/gpt-fake-large · 4 messages$/)
      expect(lines[6]).to.match(/^New session [0-9A-Z]{26}\.$/)
      expect(lines.slice(7)).to.deep.equal(['Three.', 'you: third', 'assistant: Three.', ''])
      expect(server.chatRequests.map(r => r.chat!.model)).to.deep.equal(['gpt-5.4-mini', 'gpt-fake-large', 'gpt-fake-large'])
      const sessions = await stored()
      expect(sessions.map(s => s.messages.map(m => m.content))).to.deep.equal([
        ['third', 'Three.'],
        ['first', 'One.', 'second', 'Two.'],
      ])
    })

    it('-c resumes and shows the last exchanges first; /clear empties the session', async () => {
      server.enqueue({chunks: ['Earlier answer.'], type: 'reply'})
      await synapse(sandbox, ['Earlier question'])
      const {code, stdout} = await synapse(sandbox, ['-r', '-c'], {input: '/clear\n/count\n'})
      expect(code).to.equal(0)
      expect(stdout.split('\n').slice(1)).to.deep.equal([
        'you: Earlier question',
        'assistant: Earlier answer.',
        'Cleared 2 messages.',
        '0 messages in this session.',
        '',
      ])
    })
  })

  describe('interruptions', () => {
    it('Ctrl-C mid-stream saves the partial reply as interrupted and exits 130', async () => {
      server.reply(['The beginning', ' and more', ' never sent'], {stallAfterChunks: 1})
      const run = new SynapseProcess(sandbox, ['Tell me a long story'])
      run.child.stdin.end()
      await run.waitForStdout('The beginning')
      run.child.kill('SIGINT')
      const {code, stderr, stdout} = await run.exited
      expect(code).to.equal(130)
      expect(stdout).to.equal('The beginning\n')
      expect(stderr).to.equal('Interrupted; the reply so far is kept.\n')
      const [{messages}] = await stored()
      expect(messages.map(m => [m.role, m.content, m.status])).to.deep.equal([
        ['user', 'Tell me a long story', 'complete'],
        ['assistant', 'The beginning', 'interrupted'],
      ])
    })

    it('Ctrl-C during a REPL reply keeps the REPL open; the interrupted reply is context for the next turn', async () => {
      server.enqueue({chunks: ['Part one', ' part two'], stallAfterChunks: 1, type: 'reply'}, {chunks: ['Resumed.'], type: 'reply'})
      const run = new SynapseProcess(sandbox, ['-r'])
      run.write('long answer please\n')
      await run.waitForStdout('Part one')
      run.child.kill('SIGINT')
      await run.waitForStderr('Interrupted; the reply so far is kept.\n')
      run.write('go on\n')
      await run.waitForStdout('Resumed.')
      run.child.stdin.end()
      const {code, stderr} = await run.exited
      expect(code).to.equal(0)
      expect(stderr).to.equal('Interrupted; the reply so far is kept.\n')
      expect(sent()).to.deep.equal([
        ['user', 'long answer please'],
        ['assistant', 'Part one'],
        ['user', 'go on'],
      ])
    })

    it('SIGKILL mid-stream leaves a database that opens cleanly and holds the user message', async () => {
      server.enqueue({chunks: ['Earlier.'], type: 'reply'}, {chunks: ['Half', ' never'], stallAfterChunks: 1, type: 'reply'})
      await synapse(sandbox, ['An earlier question'])
      const run = new SynapseProcess(sandbox, ['-c', 'A question cut short'])
      run.child.stdin.end()
      await run.waitForStdout('Half')
      run.child.kill('SIGKILL')
      const {signal} = await run.exited
      expect(signal).to.equal('SIGKILL')
      const raw = new Database(dbPath)
      expect(raw.pragma('integrity_check', {simple: true})).to.equal('ok')
      raw.close()
      const [{messages}] = await stored()
      expect(messages.map(m => [m.role, m.content])).to.deep.equal([
        ['user', 'An earlier question'],
        ['assistant', 'Earlier.'],
        ['user', 'A question cut short'],
      ])
      expect(statSync(dbPath).mode & 0o777).to.equal(0o600)
      // Its reply never committed: the question stays pending, shown unanswered, and is never sent again.
      expect(messages.map(m => m.status)).to.deep.equal(['complete', 'complete', 'pending'])
      const shown = await synapse(sandbox, ['sessions', 'show', messages[0].sessionId], {env: {NO_COLOR: '1'}})
      expect(shown.stdout).to.contain('user · #2 · unanswered\nA question cut short\n')
      server.reset()
      server.reply(['Next.'])
      const next = await synapse(sandbox, ['-c', 'The next question'])
      expect(next.code).to.equal(0)
      expect(sent()).to.deep.equal([
        ['user', 'An earlier question'],
        ['assistant', 'Earlier.'],
        ['user', 'The next question'],
      ])
    })

    it('two REPLs in one session: each request carries answered pairs and its own question only, each reply names its question', async function () {
      this.timeout(120_000)
      const turns = 20
      // Each REPL's question n is answered only once the other's question n has arrived too, so the
      // two race at every turn, however long each took to start (under load, one can start after
      // the other has finished). Once either has exited, nothing is held.
      const meetings = new Map<number, {arrived: number; meet: () => void; met: Promise<void>}>()
      let meetAll = false
      const arrive = (turn: number) => {
        let meeting = meetings.get(turn)
        if (!meeting) {
          let meet!: () => void
          const met = new Promise<void>(resolve => (meet = resolve))
          meeting = {arrived: 0, meet, met}
          meetings.set(turn, meeting)
        }
        if (++meeting.arrived === 2 || meetAll) meeting.meet()
        return meeting.met
      }
      const leave = () => {
        meetAll = true
        for (const {meet} of meetings.values()) meet()
      }
      server.responder = chat => {
        const question = chat.messages.at(-1)!.content
        return {chunks: ['Re: ', question], delayMs: 5, heldUntil: arrive(Number(/ (\d+)$/.exec(question)![1])), type: 'reply'}
      }
      const created = await synapse(sandbox, ['sessions', 'new', '--json'])
      const sessionId = (JSON.parse(created.stdout) as {id: string}).id
      const lines = (tag: string) => `${Array.from({length: turns}, (_, i) => `${tag} question ${i}`).join('\n')}\n`
      const [a, b] = await Promise.all(['a', 'b'].map(tag => synapse(sandbox, ['-s', sessionId, '-r'], {input: lines(tag)}).finally(leave)))
      expect([a.code, a.stderr, b.code, b.stderr]).to.deep.equal([0, '', 0, ''])
      // Otherwise the two never raced and this test would prove nothing.
      expect(server.maxConcurrentChats).to.equal(2)
      expect([...meetings.values()].map(({arrived}) => arrived)).to.deep.equal(Array.from({length: turns}, () => 2))

      expect(server.chatRequests).to.have.length(2 * turns)
      for (const request of server.chatRequests) {
        const messages = request.chat!.messages
        const own = messages.at(-1)!
        expect(own.role).to.equal('user')
        // Before its own question, a request holds only questions each followed by their own answer.
        const earlier = messages.slice(0, -1)
        expect(earlier.length % 2).to.equal(0)
        for (let i = 0; i < earlier.length; i += 2) {
          expect([earlier[i].role, earlier[i + 1].role, earlier[i + 1].content]).to.deep.equal(['user', 'assistant', `Re: ${earlier[i].content}`])
        }
      }

      const [{messages}] = await stored()
      const questions = messages.filter(m => m.role === 'user')
      const replies = messages.filter(m => m.role === 'assistant')
      expect([questions.length, replies.length]).to.deep.equal([2 * turns, 2 * turns])
      expect(questions.filter(m => m.status !== 'complete')).to.deep.equal([])
      const byId = new Map(messages.map(m => [m.id, m]))
      for (const reply of replies) expect(reply.content).to.equal(`Re: ${byId.get(reply.replyTo!)!.content}`)
      expect(new Set(replies.map(m => m.replyTo)).size).to.equal(2 * turns)
    })
  })

  describe('provider errors', () => {
    const cases: Array<{expected: RegExp; hint: RegExp; name: string; script: (s: FakeOpenAIServer) => void}> = [
      {
        expected: /^Error: The openai provider rejected the API key \(401\)/,
        hint: /OPENAI_API_KEY/,
        name: '401',
        script: s => s.fail(401, 'Incorrect API key provided.'),
      },
      {
        expected: /^Error: .*gpt-5\.4-mini.*\(404\)/,
        hint: /--model/,
        name: '404 model',
        script: s => s.fail(404, 'The model `gpt-5.4-mini` does not exist.', {code: 'model_not_found'}),
      },
      {
        expected: /^Error: .*rate.limit/i,
        hint: /wait/i,
        name: '429 after retries',
        script: s => s.setDefault({headers: {'retry-after-ms': '0'}, message: 'Rate limit reached.', status: 429, type: 'error'}),
      },
      {
        expected: /^Error: The openai provider failed with HTTP 503 after 1 retry: Overloaded\.$/,
        hint: /Try again later/,
        name: '5xx',
        script: s => s.setDefault({headers: {'retry-after-ms': '0'}, message: 'Overloaded.', status: 503, type: 'error'}),
      },
      {
        expected:
          /^Error: The openai provider at http:\/\/127\.0\.0\.1:\d+\/v1 answered with an HTML page, not a chat completion stream — check OPENAI_BASE_URL or providers\.openai\.base_url\.$/,
        hint: /base URL/,
        name: 'an HTML page with 200',
        script: s => s.enqueue({body: '<!doctype html><html><body><h1>It works!</h1></body></html>\n', contentType: 'text/html', type: 'raw'}),
      },
      {
        // The SDK's own "Could not parse message into JSON:" / "From chunk:" lines would come first.
        expected: /^Error: The openai provider at http:\/\/127\.0\.0\.1:\d+\/v1 sent a stream that is not valid server-sent event JSON/,
        hint: /base URL/,
        name: 'malformed server-sent events',
        script: s => s.enqueue({body: 'data: {"id": "chatcmpl-1", "choices": [oops\n\n', contentType: 'text/event-stream', type: 'raw'}),
      },
    ]
    for (const {expected, hint, name, script} of cases) {
      it(`${name}: one line with a hint, exit 1, the prompt kept but marked so -c does not resend it`, async () => {
        writeConfig('[providers.openai]\nmax_retries = 1\n')
        script(server)
        const failed = await synapse(sandbox, ['Will this work?'])
        expect(failed.code).to.equal(1)
        expect(failed.stdout).to.equal('')
        const [first, second, ...rest] = failed.stderr.split('\n')
        expect(first).to.match(expected)
        expect(second)
          .to.match(/^ {2}→ /)
          .and.to.match(hint)
        expect(rest.join('')).not.to.match(/at .*\.js:\d+/)
        expect(failed.stderr).not.to.contain(API_KEY)
        if (name.startsWith('429') || name === '5xx') expect(server.chatRequests).to.have.length(2)
        const [{messages}] = await stored()
        expect(messages.map(m => [m.role, m.content, m.status])).to.deep.equal([['user', 'Will this work?', 'error']])

        server.reset()
        server.reply(['Now it does.'])
        const retried = await synapse(sandbox, ['-c', 'Try again'])
        expect(retried.code).to.equal(0)
        expect(sent()).to.deep.equal([['user', 'Try again']])
      })
    }

    it('connection refused names the server and says what to check', async () => {
      const port = await closedPort()
      const {code, stderr} = await synapse(sandbox, ['Anyone there?'], {env: {OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`}})
      expect(code).to.equal(1)
      expect(stderr.split('\n')[0]).to.contain(`127.0.0.1:${port}`)
      expect(stderr).to.contain('OPENAI_BASE_URL')
    })

    it('a server that stalls is a timeout error naming the limit', async () => {
      writeConfig('[providers.openai]\nidle_timeout_ms = 300\nmax_retries = 0\n')
      server.reply(['Start'], {stallAfterChunks: 1})
      const {code, stderr, stdout} = await synapse(sandbox, ['Slow?'])
      expect(code).to.equal(1)
      expect(stdout).to.equal('Start\n')
      expect(stderr.split('\n')[0]).to.match(/^Error: .*300 ms/)
    })

    it('a missing API key names the variable and the config key, and writes nothing', async () => {
      const {code, stderr} = await synapse(sandbox, ['Hello'], {env: {OPENAI_API_KEY: '', OPENAI_BASE_URL: ''}})
      expect(code).to.equal(1)
      expect(stderr.split('\n')[0]).to.contain('OPENAI_API_KEY').and.to.contain('providers.openai.api_key')
      expect(server.chatRequests).to.have.length(0)
      expect(await stored()).to.deep.equal([])
    })

    it('an unknown provider given with -p is a usage error (exit 2) naming the known ones and how to get more', async () => {
      const {code, stderr} = await synapse(sandbox, ['-p', 'mistral', 'Hello'])
      expect(code).to.equal(2)
      expect(stderr).to.equal(
        'Error: Unknown provider "mistral". Known providers: anthropic, openai.\n  → If a plugin provides "mistral", install it: synapse plugins install <package>.\n',
      )
    })

    it("a session's provider that is no longer installed is a failure (exit 1), not a usage error", async () => {
      const store = await openSqliteStore({path: dbPath})
      const session = await store.create({model: 'mistral-small', provider: 'mistral'})
      await store.close()
      const {code, stderr} = await synapse(sandbox, ['-s', session.id, 'Hello'])
      expect(code).to.equal(1)
      expect(stderr.split('\n')[0]).to.equal('Error: Unknown provider "mistral". Known providers: anthropic, openai.')
      expect(server.chatRequests).to.have.length(0)
    })
  })

  describe('when the database cannot be used', () => {
    const LOCKED =
      /The session database at .* stayed locked by another process for 0\.2 s\. — Try again; if it keeps happening, look for a synapse process that is stuck \(ps aux \| grep synapse\)\./

    it('cannot be opened: the reply still arrives, a one-line warning says why, exit 1', async () => {
      server.reply(['Still here.'])
      const blocker = join(sandbox.root, 'not-a-dir')
      writeFileSync(blocker, '')
      const {code, stderr, stdout} = await synapse(sandbox, ['Hello'], {env: {DATABASE_URL: join(blocker, 'sessions.db')}})
      expect(stdout).to.equal('Still here.\n')
      expect(stderr).to.match(
        /^Warning: this conversation was not saved: Cannot create the session database at .*\(EEXIST: a file is in the way\)\. — Check that the directory is writable, or set DATABASE_URL to a file in a writable directory\.\n$/,
      )
      expect(code).to.equal(1)
    })

    it('locked past the timeout by another process: the reply arrives, the warning says so, exit 1', async () => {
      server.enqueue({chunks: ['First.'], type: 'reply'}, {chunks: ['Delivered anyway.'], type: 'reply'})
      await synapse(sandbox, ['First'])
      const holder = new Database(dbPath)
      holder.exec('BEGIN IMMEDIATE')
      try {
        const {code, stderr, stdout} = await synapse(sandbox, ['-c', 'Second'], {env: {SYNAPSE_AUTO_CLEANUP: 'false', SYNAPSE_BUSY_TIMEOUT_MS: '200'}})
        expect(stdout).to.equal('Delivered anyway.\n')
        expect(stderr).to.match(new RegExp(`^Warning: this conversation was not saved: ${LOCKED.source}\n$`))
        expect(code).to.equal(1)
      } finally {
        holder.exec('ROLLBACK')
        holder.close()
      }
      expect((await stored())[0].messages.map(m => m.content)).to.deep.equal(['First', 'First.'])
    })

    it('locked while retention has sessions to prune: the cleanup is one warning, the continued turn still carries its history', async () => {
      server.enqueue({chunks: ['Old.'], type: 'reply'}, {chunks: ['New.'], type: 'reply'}, {chunks: ['Still answered.'], type: 'reply'})
      await synapse(sandbox, ['Old question'])
      await synapse(sandbox, ['New question'])
      // Another process, holding the write lock as a long import or a stuck synapse would.
      const holder = new SynapseLockHolder(dbPath, 'EXCLUSIVE')
      await holder.locked
      try {
        const {code, stderr, stdout} = await synapse(sandbox, ['-c', 'Go on'], {env: {SYNAPSE_BUSY_TIMEOUT_MS: '200', SYNAPSE_MAX_SESSIONS: '1'}})
        expect(stdout).to.equal('Still answered.\n')
        expect(stderr).to.match(
          new RegExp(`^Warning: automatic cleanup of old sessions failed: ${LOCKED.source}\nWarning: this conversation was not saved: ${LOCKED.source}\n$`),
        )
        expect(code).to.equal(1)
        expect(sent()).to.deep.equal([
          ['user', 'New question'],
          ['assistant', 'New.'],
          ['user', 'Go on'],
        ])
      } finally {
        await holder.release()
      }
      // Neither pruned nor added to.
      expect((await stored()).map(({messages}) => messages.map(m => m.content))).to.deep.equal([
        ['New question', 'New.'],
        ['Old question', 'Old.'],
      ])
    })

    describe('on a file system of its own', () => {
      let mount: TmpfsMount
      afterEach(() => mount?.unmount())

      async function firstTurnOn(sizeBytes: number): Promise<NodeJS.ProcessEnv> {
        mount = mountTmpfs(sandbox.root, sizeBytes)
        const env = {DATABASE_URL: join(mount.path, 'sessions.db')}
        server.enqueue({chunks: ['Paris.'], type: 'reply'}, {chunks: ['About two million.'], type: 'reply'})
        expect((await synapse(sandbox, ['Capital of France?'], {env})).code).to.equal(0)
        return env
      }

      it('remounted read-only: a continued session is read, the reply arrives, the warning names the mount, exit 1', async () => {
        const env = await firstTurnOn(4 << 20)
        const before = readFileSync(env.DATABASE_URL!)
        mount.remountReadOnly()
        const {code, stderr, stdout} = await synapse(sandbox, ['-c', 'Its population?'], {env})
        expect(stdout).to.equal('About two million.\n')
        expect(stderr, stderr).to.match(
          /^Warning: this conversation was not saved: The session database at .*\/mnt\/sessions\.db is on a read-only file system \(SQLITE_CANTOPEN\)\. — Remount it read-write, or point DATABASE_URL at a file on a writable disk\.\n$/,
        )
        expect(code).to.equal(1)
        expect(sent()).to.deep.equal([
          ['user', 'Capital of France?'],
          ['assistant', 'Paris.'],
          ['user', 'Its population?'],
        ])
        expect(readFileSync(env.DATABASE_URL!).equals(before)).to.equal(true)
      })

      it('remounted read-only with no database there: -c is one error naming the cause, and nothing is sent', async () => {
        await firstTurnOn(4 << 20)
        mount.remountReadOnly()
        const {code, stderr} = await synapse(sandbox, ['-c', 'Its population?'], {env: {DATABASE_URL: join(mount.path, 'other.db')}})
        expect(stderr).to.match(
          /^Error: Cannot create the session database at .*\/mnt\/other\.db \(EROFS\)\.\n {2}→ Check that the directory is writable, or set DATABASE_URL to a file in a writable directory\.\n$/,
        )
        expect(code).to.equal(1)
        expect(server.chatRequests).to.have.length(1)
      })

      it('full: a continued session is read, the reply arrives, the warning says the disk is full, exit 1', async () => {
        const env = await firstTurnOn(1 << 20)
        mount.fill()
        const {code, stderr, stdout} = await synapse(sandbox, ['-c', 'Its population?'], {env})
        expect(stdout).to.equal('About two million.\n')
        expect(stderr).to.match(
          /^Warning: this conversation was not saved: The disk holding the session database at .*\/mnt\/sessions\.db is full( \(SQLITE_[A-Z_]+\))?\. — Free some space, or prune old sessions with "synapse sessions prune"\.\n$/,
        )
        expect(code).to.equal(1)
        expect(sent()).to.deep.equal([
          ['user', 'Capital of France?'],
          ['assistant', 'Paris.'],
          ['user', 'Its population?'],
        ])
      })
    })
  })

  describe('where the database is', () => {
    it('-s "" is a usage error, not a new session', async () => {
      const {code, stderr} = await synapse(sandbox, ['-s', '', 'Hello'])
      expect(stderr).to.equal(
        'Error: The session id is empty.\n  → Give an id or a unique prefix ("synapse sessions list" shows them), or leave out -s to start a new session.\n',
      )
      expect(code).to.equal(2)
      expect(server.chatRequests).to.have.length(0)
      expect(existsSync(dbPath) ? await stored() : []).to.deep.equal([])
    })

    for (const [name, setting] of [
      ['DATABASE_URL=~/…', {env: {DATABASE_URL: '~/history/x.db'}}],
      ['DATABASE_URL=sqlite:~/…', {env: {DATABASE_URL: 'sqlite:~/history/x.db'}}],
      ['storage.url = "~/…" in the user config', {config: '[storage]\nurl = "~/history/x.db"\n'}],
    ] as Array<[string, {config?: string; env?: NodeJS.ProcessEnv}]>) {
      it(`${name} is a file in HOME, and no directory named "~" appears`, async () => {
        if (setting.config) writeConfig(setting.config)
        const cwd = join(sandbox.root, 'work')
        mkdirSync(cwd)
        server.reply(['Hi.'])
        const {code} = await synapse(sandbox, ['Hello'], {cwd, env: setting.env})
        expect(code).to.equal(0)
        expect(existsSync(join(cwd, '~'))).to.equal(false)
        const store = await openSqliteStore({path: join(sandbox.home, 'history', 'x.db')})
        try {
          expect((await store.list()).map(s => s.preview)).to.deep.equal(['Hello'])
        } finally {
          await store.close()
        }
      })
    }

    it('another program’s SQLite file with a sessions table is refused and left byte for byte as it was', async () => {
      const foreign = join(sandbox.root, 'app.db')
      const app = new Database(foreign)
      app.exec("CREATE TABLE sessions (token TEXT PRIMARY KEY, user_id INTEGER); INSERT INTO sessions VALUES ('abc', 7)")
      app.close()
      const before = readFileSync(foreign)
      server.reply(['Never sent.'])
      for (const args of [['Hello'], ['-c', 'Hello'], ['sessions', 'list'], ['db', 'migrate']]) {
        const {code, stderr} = await synapse(sandbox, args, {env: {DATABASE_URL: foreign}})
        expect(stderr, args.join(' ')).to.equal(
          `Error: The file ${foreign} is a SQLite database of another program (tables: sessions); synapse left it unchanged.\n  → Point DATABASE_URL or [storage] url at a file of its own, or unset it to use the default file.\n`,
        )
        expect(code, args.join(' ')).to.equal(1)
      }
      expect(server.chatRequests).to.have.length(0)
      expect(readFileSync(foreign).equals(before)).to.equal(true)
      expect(existsSync(`${foreign}-wal`) || existsSync(`${foreign}-shm`)).to.equal(false)
      const check = new Database(foreign, {readonly: true})
      try {
        expect(check.pragma('journal_mode', {simple: true})).to.equal('delete')
      } finally {
        check.close()
      }
    })
  })
})
