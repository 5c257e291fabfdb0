import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'

import {Conversation} from '../../src/chat/conversation.js'
import {type ReplOptions, type ReplOutcome, runRepl} from '../../src/chat/repl.js'
import {type LoadedConfig, loadConfig} from '../../src/config/index.js'
import {SynapseError} from '../../src/core/errors.js'
import {openaiProvider} from '../../src/providers/openai.js'
import type {Provider} from '../../src/providers/provider.js'
import {MemorySessionStore} from '../../src/store/memory-store.js'
import type {NewSession} from '../../src/store/session-store.js'
import {sessionRecord} from '../../src/testing/index.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

const MODEL = 'gpt-fake-mini'
const HELP_TEXT = [
  '/help        this list',
  '/exit        leave (also Ctrl-D, or Ctrl-C at the prompt)',
  '/new         start a fresh session',
  '/clear       delete this session’s messages, keep the session',
  '/count       how many messages the session holds',
  '/history     print the whole conversation',
  '/retry       ask the last question again; the new reply replaces the old one',
  '/edit        rewrite the last question in $VISUAL or $EDITOR and send it in its place',
  '/undo        take the last question and its reply out of the conversation',
  '/fork TITLE  continue in a copy of this session (TITLE optional); the original stays as it is',
  '/session     id, title and model of this session',
  '/model NAME  use another model from now on',
]

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** One REPL in this process: piped input (not a terminal), captured output and errors. */
class Repl {
  err = ''
  readonly errors = new PassThrough()
  readonly input = new PassThrough()
  out = ''
  readonly output = new PassThrough()
  outcome?: ReplOutcome
  running?: Promise<ReplOutcome>

  constructor() {
    this.output.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk))
    this.errors.setEncoding('utf8').on('data', (chunk: string) => (this.err += chunk))
  }

  start(options: Omit<ReplOptions, 'errors' | 'input' | 'output' | 'style'>): Promise<ReplOutcome> {
    this.running = runRepl({...options, errors: this.errors, input: this.input, output: this.output, style: {color: false, terminal: false}})
    this.running.then(
      outcome => (this.outcome = outcome),
      () => {},
    )
    return this.running
  }

  write(...lines: string[]): void {
    for (const line of lines) this.input.write(`${line}\n`)
  }

  /** Sends the lines, closes the input as the end of a pipe, and waits for the loop to end. */
  async finish(...lines: string[]): Promise<ReplOutcome> {
    this.write(...lines)
    this.input.end()
    return this.running!
  }
}

describe('runRepl', () => {
  let sandbox: Sandbox
  let server: FakeOpenAIServer
  let provider: Provider
  let store: MemorySessionStore
  let config: LoadedConfig
  let repl: Repl
  let sigintBefore: NodeJS.SignalsListener[]

  /** `variables` as a user sets them in the environment, over the sandbox's. */
  async function configFor(variables: NodeJS.ProcessEnv = {}): Promise<LoadedConfig> {
    const cwd = join(sandbox.root, 'project')
    mkdirSync(cwd, {recursive: true})
    return loadConfig({cwd, env: {...sandbox.env, ...variables}})
  }

  async function conversation(fields: NewSession = {}, persistent = true): Promise<Conversation> {
    const session = await store.create({model: MODEL, provider: 'openai', ...fields})
    return new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent, provider, session, store})
  }

  function banner(conv: Conversation, model = MODEL): string {
    return `synapse · session ${conv.session.id} · openai/${model} · /help for commands, /exit or Ctrl-D to leave\n`
  }

  function start(conv: Conversation, options: Partial<ReplOptions> = {}): Promise<ReplOutcome> {
    return repl.start({config, conversation: conv, model: MODEL, resumed: false, ...options})
  }

  beforeEach(async () => {
    sigintBefore = process.listeners('SIGINT')
    sandbox = makeSandbox()
    server = await FakeOpenAIServer.start()
    provider = openaiProvider.create({apiKey: 'test-key', baseUrl: server.url, extra: {}, maxRetries: 0})
    store = new MemorySessionStore()
    config = await configFor()
    repl = new Repl()
  })

  afterEach(async () => {
    // A loop a failed test left waiting for input ends here, so its SIGINT listener goes with it.
    repl.input.end()
    await server.close()
    await repl.running?.catch(() => {})
    for (const listener of process.listeners('SIGINT')) {
      if (!sigintBefore.includes(listener)) process.off('SIGINT', listener as () => void)
    }
    sandbox.cleanup()
  })

  describe('prompts', () => {
    it('prints the reply to a prompt line and returns exit code 0 at the end of input', async () => {
      const conv = await conversation()
      server.reply(['Hi', ' there'])

      start(conv)
      const outcome = await repl.finish('Hello')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 1})
      expect(repl.out).to.equal(`${banner(conv)}Hi there\n`)
      expect(repl.err).to.equal('')
      expect((await store.messages(conv.session.id)).map(m => [m.role, m.content, m.status])).to.deep.equal([
        ['user', 'Hello', 'complete'],
        ['assistant', 'Hi there', 'complete'],
      ])
    })

    it('answers each line in turn, sending the earlier exchanges with the later prompts', async () => {
      const conv = await conversation({systemPrompt: 'Be terse.'})
      server.reply(['One'])
      server.reply(['Two'])
      start(conv, {maxTokens: 50, temperature: 0.2})

      const outcome = await repl.finish('first', 'second')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 2})
      expect(repl.out).to.equal(`${banner(conv)}One\nTwo\n`)
      expect(server.chatRequests[1].chat).to.deep.equal({
        maxTokens: 50,
        messages: [
          {content: 'Be terse.', role: 'system'},
          {content: 'first', role: 'user'},
          {content: 'One', role: 'assistant'},
          {content: 'second', role: 'user'},
        ],
        model: MODEL,
        stream: true,
        temperature: 0.2,
      })
    })

    it('adds no newline after a reply that ends with one, and trims the prompt', async () => {
      const conv = await conversation()
      server.reply(['Line one\n'])
      start(conv)

      await repl.finish('   padded prompt  ')

      expect(repl.out).to.equal(`${banner(conv)}Line one\n`)
      expect(server.chatRequests[0].chat?.messages).to.deep.equal([{content: 'padded prompt', role: 'user'}])
    })

    it('ignores blank lines', async () => {
      const conv = await conversation()
      start(conv)

      const outcome = await repl.finish('', '   ', '\t')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 0})
      expect(repl.out).to.equal(banner(conv))
      expect(server.requests).to.have.length(0)
    })

    it('prints a provider error with its remedy on errors, goes on with the next line without resending the failed prompt, and exits 1 at the end of the pipe', async () => {
      const conv = await conversation()
      server.fail(500, 'Server on fire')
      server.reply(['Recovered'])
      start(conv)

      const outcome = await repl.finish('first', 'second')

      expect(outcome).to.deep.equal({exitCode: 1, turns: 1})
      expect(repl.err).to.equal('Error: The openai provider failed with HTTP 500: Server on fire\n  → Try again later; the fault is on the server side.\n')
      expect(repl.out).to.equal(`${banner(conv)}Recovered\n`)
      expect(server.chatRequests[1].chat?.messages).to.deep.equal([{content: 'second', role: 'user'}])
      expect((await store.messages(conv.session.id)).map(m => [m.content, m.status])).to.deep.equal([
        ['first', 'error'],
        ['second', 'complete'],
        ['Recovered', 'complete'],
      ])
    })

    it('ends an error that cut a reply short on a fresh line; a dropped connection fails the piped run (exit 1)', async () => {
      const conv = await conversation()
      server.reply(['Half a', ' line'], {dropAfterChunks: 2})
      start(conv)

      const outcome = await repl.finish('go')

      expect(outcome).to.deep.equal({exitCode: 1, turns: 0})
      expect(repl.out).to.equal(`${banner(conv)}Half a line\n`)
      expect(repl.err).to.match(
        /^Error: The connection to the openai provider at http:\/\/127\.0\.0\.1:\d+\/v1 broke in the middle of its reply[^\n]*\.\n {2}→ Try again\.\n$/,
      )
    })
  })

  describe('messages of several lines', () => {
    it('sends a """ block as one prompt, and lines continued with a trailing backslash as another', async () => {
      const conv = await conversation()
      server.reply(['Block.'])
      server.reply(['Continued.'])
      start(conv)

      const outcome = await repl.finish('"""', 'first', '  second \\', '/count', '"""', 'one \\', 'two')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 2})
      expect(repl.out).to.equal(`${banner(conv)}Block.\nContinued.\n`)
      expect(server.chatRequests.map(r => r.chat?.messages.at(-1))).to.deep.equal([
        {content: 'first\n  second \\\n/count', role: 'user'},
        {content: 'one \ntwo', role: 'user'},
      ])
    })

    it('sends nothing of a block the input ends in, says so, and exits 1: a message of the script was lost', async () => {
      const conv = await conversation()
      start(conv)

      const outcome = await repl.finish('"""', 'never closed')

      expect(outcome).to.deep.equal({exitCode: 1, turns: 0})
      expect(repl.err).to.equal('The unfinished message was not sent.\n')
      expect(server.requests).to.have.length(0)
    })
  })

  describe('a session not stored yet', () => {
    function lazyConversation(): Conversation {
      const session = sessionRecord({
        createdAt: new Date(),
        id: '01M8RAAAAAAAAAAAAAAAAAAAAA',
        model: MODEL,
        provider: 'openai',
        systemPrompt: 'Sys',
        title: 'Lazy',
      })
      return new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store, stored: false})
    }

    it('runs the commands without storing it, and leaving without a turn leaves nothing', async () => {
      const conv = lazyConversation()
      start(conv, {resumed: true})

      const outcome = await repl.finish('/count', '/history', '/clear', '/model gpt-fake-large', '/session')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 0})
      expect(repl.err).to.equal('')
      expect(repl.out).to.equal(
        `${banner(conv, MODEL)}0 messages in this session.\nNo messages yet.\nCleared 0 messages.\nUsing openai/gpt-fake-large from now on.\n` +
          `Session 01M8RAAAAAAAAAAAAAAAAAAAAA "Lazy" · openai/gpt-fake-large · 0 messages\n`,
      )
      expect(await store.count()).to.equal(0)
    })

    it('stores it at the first turn, with its id, title, system prompt and the model chosen meanwhile', async () => {
      const conv = lazyConversation()
      server.reply(['Stored.'])
      start(conv)

      await repl.finish('/model gpt-fake-large', 'Hello', '/count')

      expect(repl.out).to.equal(`${banner(conv)}Using openai/gpt-fake-large from now on.\nStored.\n2 messages in this session.\n`)
      const stored = await store.get('01M8RAAAAAAAAAAAAAAAAAAAAA')
      expect([stored.title, stored.systemPrompt, stored.model]).to.deep.equal(['Lazy', 'Sys', 'gpt-fake-large'])
      expect((await store.messages(stored.id)).map(m => m.content)).to.deep.equal(['Hello', 'Stored.'])
      expect(server.chatRequests[0].chat?.messages).to.deep.equal([
        {content: 'Sys', role: 'system'},
        {content: 'Hello', role: 'user'},
      ])
    })

    it('goes on in memory when the store cannot be written at the first turn: one warning, the turns keep their context, and the piped run exits 1', async () => {
      class LockedStore extends MemorySessionStore {
        override async create(): Promise<never> {
          throw new SynapseError('STORAGE_BUSY', 'The database is locked by another process.')
        }
      }
      store = new LockedStore()
      const conv = lazyConversation()
      server.reply(['One'])
      server.reply(['Two'])
      start(conv)

      const outcome = await repl.finish('first', 'second', '/count')

      expect(outcome).to.deep.equal({exitCode: 1, turns: 2})
      expect(repl.err).to.equal('Warning: not saved: The database is locked by another process.\n')
      expect(repl.out).to.equal(`${banner(conv)}One\nTwo\n4 messages in this session.\n`)
      expect(server.chatRequests[1].chat?.messages).to.deep.equal([
        {content: 'Sys', role: 'system'},
        {content: 'first', role: 'user'},
        {content: 'One', role: 'assistant'},
        {content: 'second', role: 'user'},
      ])
      expect(await store.count()).to.equal(0)
    })

    it('/new stores the new session only at its first turn', async () => {
      const conv = await conversation()
      start(conv)

      await repl.finish('/new', '/count')

      expect(repl.out).to.equal(
        `${banner(conv).replace(conv.session.id, (await store.list())[0].id)}New session ${conv.session.id}.\n0 messages in this session.\n`,
      )
      expect(await store.count()).to.equal(1)
    })
  })

  describe('slash commands', () => {
    it('/help lists the commands', async () => {
      const conv = await conversation()
      start(conv)

      await repl.finish('/help')

      expect(repl.out).to.equal(`${banner(conv)}${HELP_TEXT.join('\n')}\n`)
      expect(repl.err).to.equal('')
    })

    it('/count says how many messages the session holds, and commands are case-insensitive', async () => {
      const conv = await conversation()
      server.reply(['Hi'])
      start(conv)

      await repl.finish('/count', 'Hello', '/COUNT')

      expect(repl.out).to.equal(`${banner(conv)}0 messages in this session.\nHi\n2 messages in this session.\n`)
    })

    it('/session prints the id, the title, the model and the message count', async () => {
      const titled = await conversation({title: 'Release notes'})
      server.reply(['ok'])
      start(titled)

      await repl.finish('q', '/session')

      expect(repl.out).to.equal(`${banner(titled)}ok\nSession ${titled.session.id} "Release notes" · openai/${MODEL} · 2 messages\n`)
    })

    it('/session shows the title as the store has it now, set by another process since', async () => {
      const conv = await conversation()
      start(conv)
      repl.write('/session')
      await until(() => repl.out.includes('0 messages'), 'the first /session')
      await store.update(conv.session.id, {title: 'Renamed elsewhere'})

      await repl.finish('/session')

      expect(repl.out).to.equal(
        `${banner(conv)}Session ${conv.session.id} · openai/${MODEL} · 0 messages\nSession ${conv.session.id} "Renamed elsewhere" · openai/${MODEL} · 0 messages\n`,
      )
    })

    it('/session leaves the title out of an untitled session', async () => {
      const conv = await conversation()
      start(conv)

      await repl.finish('/session')

      expect(repl.out).to.equal(`${banner(conv)}Session ${conv.session.id} · openai/${MODEL} · 0 messages\n`)
    })

    it('/history prints the whole conversation, marking failed and interrupted messages', async () => {
      const conv = await conversation()
      start(conv)
      await store.append(conv.session.id, [
        {content: 'q1', role: 'user'},
        {content: 'a1', role: 'assistant'},
        {content: 'q2', role: 'user', status: 'error'},
        {content: 'q3', role: 'user'},
        {content: 'a3 partial', role: 'assistant', status: 'interrupted'},
      ])

      await repl.finish('/history')

      expect(repl.out).to.equal(`${banner(conv)}you: q1\nassistant: a1\nyou (error): q2\nyou: q3\nassistant (interrupted): a3 partial\n`)
    })

    it('/history says when there is nothing yet', async () => {
      const conv = await conversation()
      start(conv)

      await repl.finish('/history')

      expect(repl.out).to.equal(`${banner(conv)}No messages yet.\n`)
    })

    it('/history, /session, the resumed exchanges and a streamed reply show stored escape sequences as visible text', async () => {
      const hostile = 'x\u001B]0;pwned\u0007y\u001B[2Jz\u009B1mw\rFAKE'
      const shown = String.raw`x\x1b]0;pwned\x07y\x1b[2Jz\x9b1mw\rFAKE`
      const conv = await conversation({title: hostile})
      await store.append(conv.session.id, [
        {content: `q ${hostile}\nline two\tend`, role: 'user'},
        {content: `a ${hostile}`, role: 'assistant'},
      ])
      server.reply([`r ${hostile}`])
      start(conv, {resumed: true})

      await repl.finish('/history', 'next', '/session')

      const exchange = `you: q ${shown}\nline two\tend\nassistant: a ${shown}\n`
      expect(repl.out).to.equal(`${banner(conv)}${exchange}${exchange}r ${shown}\nSession ${conv.session.id} "${shown}" · openai/${MODEL} · 4 messages\n`)
      // The store keeps the exact text.
      expect((await store.messages(conv.session.id)).at(-1)?.content).to.equal(`r ${hostile}`)
    })

    it('/model prints the model, and /model NAME makes later prompts use NAME and stores it on the session', async () => {
      const conv = await conversation()
      server.reply(['From large'])
      start(conv)

      const outcome = await repl.finish('/model', '/model gpt-fake-large', 'Which model?', '/model', '/session')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 1})
      expect(repl.out).to.equal(
        `${banner(conv)}Model: openai/${MODEL}\nUsing openai/gpt-fake-large from now on.\nFrom large\nModel: openai/gpt-fake-large\n` +
          `Session ${conv.session.id} · openai/gpt-fake-large · 2 messages\n`,
      )
      expect(server.chatRequests.map(r => r.chat?.model)).to.deep.equal(['gpt-fake-large'])
      expect((await store.get(conv.session.id)).model).to.equal('gpt-fake-large')
      const [, reply] = await store.messages(conv.session.id)
      expect(reply.model).to.equal('gpt-fake-large')
    })

    it('/new starts a fresh session that later prompts go to; the old one keeps its messages', async () => {
      const conv = await conversation({systemPrompt: 'Sys'})
      const oldId = conv.session.id
      server.reply(['Old answer'])
      server.reply(['New answer'])
      start(conv)

      repl.write('Old question', '/new')
      await until(() => repl.out.includes('New session'), '/new')
      const newId = conv.session.id
      await repl.finish('New question', '/count')

      expect(newId).to.not.equal(oldId)
      expect(repl.out).to.equal(`${banner(conv).replace(newId, oldId)}Old answer\nNew session ${newId}.\nNew answer\n2 messages in this session.\n`)
      expect(await store.count()).to.equal(2)
      expect((await store.messages(oldId)).map(m => m.content)).to.deep.equal(['Old question', 'Old answer'])
      expect((await store.messages(newId)).map(m => m.content)).to.deep.equal(['New question', 'New answer'])
      expect((await store.get(newId)).systemPrompt).to.equal('Sys')
      expect(server.chatRequests[1].chat?.messages).to.deep.equal([
        {content: 'Sys', role: 'system'},
        {content: 'New question', role: 'user'},
      ])
    })

    it('/clear deletes the messages, keeps the session, and later prompts start from nothing', async () => {
      const conv = await conversation()
      server.reply(['a1'])
      server.reply(['a2'])
      start(conv)

      await repl.finish('q1', '/clear', '/clear', 'q2')

      expect(repl.out).to.equal(`${banner(conv)}a1\nCleared 2 messages.\nCleared 0 messages.\na2\n`)
      expect((await store.messages(conv.session.id)).map(m => m.content)).to.deep.equal(['q2', 'a2'])
      expect(server.chatRequests[1].chat?.messages).to.deep.equal([{content: 'q2', role: 'user'}])
    })

    for (const command of ['/exit', '/quit']) {
      it(`${command} leaves with exit code 0; lines after it are not processed`, async () => {
        const conv = await conversation()
        server.reply(['Only answer'])
        start(conv)

        const outcome = await repl.finish('Hello', command, 'Never sent', '/count')

        expect(outcome).to.deep.equal({exitCode: 0, turns: 1})
        expect(repl.out).to.equal(`${banner(conv)}Only answer\n`)
        expect(server.chatRequests).to.have.length(1)
        expect(await store.messages(conv.session.id)).to.have.length(2)
      })
    }

    it('/exit leaves even while the input stays open', async () => {
      const conv = await conversation()
      start(conv)

      repl.write('/exit')

      expect(await repl.running).to.deep.equal({exitCode: 0, turns: 0})
    })

    it('an unknown command gets a message on errors, the loop goes on, and the piped run exits 1', async () => {
      const conv = await conversation()
      start(conv)

      const outcome = await repl.finish('/bogus some argument', '/count')

      expect(outcome).to.deep.equal({exitCode: 1, turns: 0})
      expect(repl.err).to.equal('Unknown command /bogus; /help lists them.\n')
      expect(repl.out).to.equal(`${banner(conv)}0 messages in this session.\n`)
    })

    it('an unknown command that is a near miss of one names it', async () => {
      const conv = await conversation()
      start(conv)

      await repl.finish('/hlep', '/HISTROY', '/ne', '/qiut')

      expect(repl.err).to.equal(
        [
          'Unknown command /hlep; did you mean /help?',
          'Unknown command /HISTROY; did you mean /history?',
          'Unknown command /ne; did you mean /new?',
          'Unknown command /qiut; did you mean /quit?',
          '',
        ].join('\n'),
      )
    })

    it('a command that fails prints the error, the loop goes on, and the piped run exits 1', async () => {
      const conv = await conversation()
      start(conv)
      await store.close()

      const outcome = await repl.finish('/count', '/help')

      expect(outcome).to.deep.equal({exitCode: 1, turns: 0})
      expect(repl.err).to.equal('Error: The memory session store is closed.\n')
      expect(repl.out).to.equal(`${banner(conv)}${HELP_TEXT.join('\n')}\n`)
    })
  })

  describe('resuming', () => {
    it('prints the last six messages first when resumed', async () => {
      const conv = await conversation()
      await store.append(conv.session.id, [
        {content: 'q1', role: 'user'},
        {content: 'a1', role: 'assistant'},
        {content: 'q2', role: 'user'},
        {content: 'a2', role: 'assistant'},
        {content: 'q3', role: 'user', status: 'error'},
        {content: 'q4', role: 'user'},
        {content: 'a4', role: 'assistant', status: 'interrupted'},
        {content: 'q5', role: 'user'},
      ])

      start(conv, {resumed: true})
      await repl.finish()

      expect(repl.out).to.equal(`${banner(conv)}you: q2\nassistant: a2\nyou (error): q3\nyou: q4\nassistant (interrupted): a4\nyou: q5\n`)
    })

    it('prints nothing more than the banner for a resumed empty session', async () => {
      const conv = await conversation()
      start(conv, {resumed: true})

      await repl.finish()

      expect(repl.out).to.equal(banner(conv))
    })
  })

  describe('retention during a session', () => {
    async function seedOthers(count: number): Promise<string[]> {
      const ids: string[] = []
      for (let i = 0; i < count; i++) ids.push((await store.create({title: `other ${i}`})).id)
      return ids
    }

    it('prunes by the configured limits after a turn once the interval has passed; the current session stays', async () => {
      mkdirSync(sandbox.configDir, {recursive: true})
      writeFileSync(join(sandbox.configDir, 'config.toml'), '[session]\nmax_sessions = 1\n')
      config = await configFor()
      expect(config.settings.session.maxSessions).to.equal(1)
      // The current session is the oldest: only the turn's writes make it the most recent one.
      const conv = await conversation()
      const others = await seedOthers(2)
      server.reply(['ok'])
      start(conv, {cleanupIntervalMs: 0})

      repl.write('/count')
      await until(() => repl.out.includes('0 messages'), '/count')
      expect(await store.count(), 'a command does not prune').to.equal(3)
      const outcome = await repl.finish('Hello')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 1})
      expect((await store.list()).map(s => s.id)).to.deep.equal([conv.session.id])
      for (const id of others)
        await store.get(id).then(
          () => expect.fail(`${id} should be gone`),
          () => {},
        )
      // Never in silence: one line says what went and why.
      expect(repl.err).to.equal(
        'synapse: retention deleted 2 sessions beyond the 1 most recently updated (max_sessions) — set [session] max_sessions (0 turns a limit off), or keep one with "synapse sessions keep <id>"\n',
      )
    })

    it('does not prune before the interval has passed', async () => {
      config = await configFor({SYNAPSE_MAX_SESSIONS: '1'})
      const conv = await conversation()
      await seedOthers(2)
      server.reply(['ok'])
      start(conv)

      await repl.finish('Hello')

      expect(await store.count()).to.equal(3)
    })

    it('does not prune when auto_cleanup is off', async () => {
      config = await configFor({SYNAPSE_AUTO_CLEANUP: 'false', SYNAPSE_MAX_SESSIONS: '1'})
      const conv = await conversation()
      await seedOthers(2)
      server.reply(['ok'])
      start(conv, {cleanupIntervalMs: 0})

      await repl.finish('Hello')

      expect(await store.count()).to.equal(3)
    })
  })

  describe('Ctrl-C', () => {
    let foreign: NodeJS.SignalsListener[] = []

    // Only the REPL's own listener may hear the test's SIGINT; whatever else listens is set aside.
    beforeEach(() => {
      foreign = process.listeners('SIGINT')
      for (const listener of foreign) process.off('SIGINT', listener as () => void)
    })

    afterEach(() => {
      for (const listener of foreign) process.on('SIGINT', listener as () => void)
    })

    it('before any reply says that only the question is kept, and the loop goes on', async () => {
      const conv = await conversation()
      server.enqueue({type: 'no-response'})
      server.reply(['Next answer'])
      start(conv)

      repl.write('Tell me everything')
      await until(() => server.chatRequests.length === 1, 'the request')
      process.emit('SIGINT', 'SIGINT')
      await until(() => repl.err !== '', 'the interruption notice')
      const outcome = await repl.finish('And now?')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 2})
      expect(repl.err).to.equal('Interrupted before a reply; the question is kept.\n')
      expect((await store.messages(conv.session.id)).filter(m => m.role === 'user').map(m => m.content)).to.deep.equal(['Tell me everything', 'And now?'])
    })

    it('during a reply stops it, keeps the partial reply as interrupted, and the loop goes on', async () => {
      const conv = await conversation()
      server.reply(['Part', 'ial', ' never sent'], {stallAfterChunks: 2})
      server.reply(['Next answer'])
      start(conv)

      repl.write('Tell me everything')
      await until(() => repl.out.endsWith('Partial'), 'the partial reply')
      process.emit('SIGINT', 'SIGINT')
      await until(() => repl.err !== '', 'the interruption notice')
      const outcome = await repl.finish('/history', 'And now?')

      expect(outcome).to.deep.equal({exitCode: 0, turns: 2})
      expect(repl.err).to.equal('Interrupted; the reply so far is kept.\n')
      expect(repl.out).to.equal(`${banner(conv)}Partial\nyou: Tell me everything\nassistant (interrupted): Partial\nNext answer\n`)
      expect((await store.messages(conv.session.id)).map(m => [m.role, m.content, m.status])).to.deep.equal([
        ['user', 'Tell me everything', 'complete'],
        ['assistant', 'Partial', 'interrupted'],
        ['user', 'And now?', 'complete'],
        ['assistant', 'Next answer', 'complete'],
      ])
      expect(server.chatRequests[1].chat?.messages).to.deep.equal([
        {content: 'Tell me everything', role: 'user'},
        {content: 'Partial', role: 'assistant'},
        {content: 'And now?', role: 'user'},
      ])
      expect(process.listenerCount('SIGINT')).to.equal(0)
    })

    it('at the prompt leaves with exit code 130', async () => {
      const conv = await conversation()
      start(conv)
      expect(process.listenerCount('SIGINT')).to.equal(1)

      process.emit('SIGINT', 'SIGINT')
      const outcome = await repl.running

      expect(outcome).to.deep.equal({exitCode: 130, turns: 0})
      expect(process.listenerCount('SIGINT')).to.equal(0)
    })

    it('at the prompt after a turn leaves with exit code 130, and later lines are not processed', async () => {
      const conv = await conversation()
      server.reply(['Done'])
      start(conv)
      repl.write('Hello', '/count')
      await until(() => repl.out.includes('2 messages in this session.'), 'the turn and /count')

      process.emit('SIGINT', 'SIGINT')
      repl.write('Not processed')
      const outcome = await repl.running

      expect(outcome).to.deep.equal({exitCode: 130, turns: 1})
      expect(server.chatRequests).to.have.length(1)
      expect(repl.out).to.equal(`${banner(conv)}Done\n2 messages in this session.\n`)
    })

    it('twice during one reply leaves with exit code 130, the partial reply still kept', async () => {
      const conv = await conversation()
      server.reply(['Some', ' more'], {stallAfterChunks: 1})
      start(conv)
      repl.write('Go on')
      await until(() => repl.out.endsWith('Some'), 'the first delta')

      process.emit('SIGINT', 'SIGINT')
      process.emit('SIGINT', 'SIGINT')
      repl.write('Not processed')
      const outcome = await repl.running

      expect(outcome).to.deep.equal({exitCode: 130, turns: 1})
      expect(server.chatRequests).to.have.length(1)
      expect((await store.messages(conv.session.id)).map(m => [m.role, m.content, m.status])).to.deep.equal([
        ['user', 'Go on', 'complete'],
        ['assistant', 'Some', 'interrupted'],
      ])
      expect(process.listenerCount('SIGINT')).to.equal(0)
    })

    it('is no longer listened for once the loop has ended', async () => {
      const conv = await conversation()
      start(conv)
      await repl.finish('/count')

      expect(process.listenerCount('SIGINT')).to.equal(0)
    })
  })
})
