import Database from 'better-sqlite3'
import {expect} from 'chai'
import type {ServerResponse} from 'node:http'
import {join} from 'node:path'

import {Conversation, type ConversationOptions, type TurnResult} from '../../src/chat/conversation.js'
import {SynapseError} from '../../src/core/errors.js'
import {openaiProvider} from '../../src/providers/openai.js'
import type {ChatMessage, Provider} from '../../src/providers/provider.js'
import {MemorySessionStore} from '../../src/store/memory-store.js'
import type {Message, SessionStore} from '../../src/store/session-store.js'
import {NO_USAGE} from '../../src/store/usage-fields.js'
import {estimateTokens} from '../../src/providers/token-count.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {rejection} from '../helpers/rejection.js'
import type {RecordedRequest} from '../fakes/fake-chat-server.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {messageRecord} from '../../src/testing/index.js'

const MODEL = 'gpt-fake-mini'
const SYSTEM = 'Be brief.'

/** Runs `onRequest` when a chat request has fully arrived, before the fake answers it. */
class WatchedServer extends FakeOpenAIServer {
  onRequest?: (request: RecordedRequest) => Promise<void> | void

  static override async start(): Promise<WatchedServer> {
    return new WatchedServer().listen()
  }

  protected override async handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    if (request.chat) await this.onRequest?.(request)
    return super.handle(request, res)
  }
}

function providerFor(url: string): Provider {
  return openaiProvider.create({apiKey: 'test-key', baseUrl: url, extra: {}, maxRetries: 0})
}

/** What the assertions compare: a stored message without its generated id, session id and timestamp. */
function shape(message: Message): Omit<Message, 'createdAt' | 'id' | 'sessionId'> {
  const {createdAt: _createdAt, id: _id, sessionId: _sessionId, ...rest} = message
  return rest
}

function userRow(content: string, position: number, overrides: Partial<Message> = {}): ReturnType<typeof shape> {
  return shape(messageRecord({content, id: '', position, sessionId: '', ...overrides}))
}

/** The estimate of a request of these messages: four characters a token, four tokens a message, three for the reply's start. */
function requestEstimate(contents: string[]): number {
  return contents.reduce((sum, content) => sum + estimateTokens(content) + 4, 3)
}

function chatOf(server: FakeOpenAIServer, index: number): ChatMessage[] {
  const request = server.chatRequests[index]
  if (!request?.chat) throw new Error(`no chat request #${index}`)
  return request.chat.messages
}

describe('Conversation', () => {
  let server: WatchedServer
  let store: MemorySessionStore
  let provider: Provider

  async function conversation(overrides: Partial<ConversationOptions> = {}): Promise<Conversation> {
    const session = await store.create({model: MODEL, provider: 'openai', systemPrompt: SYSTEM})
    return new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store, ...overrides})
  }

  beforeEach(async () => {
    server = await WatchedServer.start()
    store = new MemorySessionStore()
    provider = providerFor(server.url)
  })

  afterEach(async () => {
    await server.close()
  })

  describe('a complete turn', () => {
    it('delivers the deltas in order and returns what happened', async () => {
      const conv = await conversation()
      server.reply(['Hel', 'lo', ' there!'], {usage: {inputTokens: 12, outputTokens: 3}})
      const deltas: string[] = []

      const result = await conv.send({model: MODEL, onDelta: text => deltas.push(text), prompt: 'Hi'})

      expect(deltas).to.deep.equal(['Hel', 'lo', ' there!'])
      const {durationMs, timeToFirstTokenMs, ...rest} = result
      expect(rest).to.deep.equal({
        finishReason: 'stop',
        model: MODEL,
        omitted: 0,
        provider: 'openai',
        reply: 'Hello there!',
        saved: true,
        sessionId: conv.session.id,
        status: 'complete',
        cost: {costSource: null, costUsd: null},
        usage: {cachedInputTokens: null, inputTokens: 12, outputTokens: 3, tokenSource: 'provider'},
      })
      expect(durationMs).to.be.a('number').and.to.be.at.least(0)
      expect(timeToFirstTokenMs).to.be.a('number').and.to.be.at.least(0).and.at.most(durationMs)
    })

    it('stores the user message, then the reply with provider, model, tokens, finish reason and duration', async () => {
      const conv = await conversation()
      server.reply(['Hel', 'lo'], {usage: {inputTokens: 7, outputTokens: 2}})

      const result = await conv.send({model: MODEL, prompt: 'Hi'})

      const stored = await store.messages(conv.session.id)
      expect(stored.map(m => shape(m))).to.deep.equal([
        userRow('Hi', 0),
        {
          ...NO_USAGE,
          content: 'Hello',
          durationMs: result.durationMs,
          finishReason: 'stop',
          hiddenAt: null,
          inputTokens: 7,
          metadata: {},
          model: MODEL,
          outputTokens: 2,
          position: 1,
          provider: 'openai',
          replyTo: stored[0].id,
          role: 'assistant',
          status: 'complete',
          supersededBy: null,
          tokenSource: 'provider',
        },
      ])
      expect(stored[1].durationMs).to.be.at.least(0)
    })

    it('stores the model the server says answered, its finish reason, and estimated tokens when it reports none', async () => {
      const conv = await conversation()
      server.reply(['Cut'], {finishReason: 'length', model: 'gpt-fake-mini-2026-01-01', usage: null})

      const result = await conv.send({model: MODEL, prompt: 'Hi'})

      // No tokenizer for this model's family: about four characters a token, with the chat format's framing.
      const estimated = {cachedInputTokens: null, inputTokens: requestEstimate([SYSTEM, 'Hi']), outputTokens: estimateTokens('Cut'), tokenSource: 'estimate'}
      expect({finishReason: result.finishReason, model: result.model, usage: result.usage}).to.deep.equal({
        finishReason: 'length',
        model: 'gpt-fake-mini-2026-01-01',
        usage: estimated,
      })
      const [, reply] = await store.messages(conv.session.id)
      expect({...reply, content: undefined}).to.deep.include({...estimated, costUsd: null, finishReason: 'length', model: 'gpt-fake-mini-2026-01-01'})
    })

    it('has stored the user message, and nothing else, by the time the request reaches the server', async () => {
      const conv = await conversation()
      let seen: Array<ReturnType<typeof shape>> | undefined
      server.onRequest = async () => {
        seen = (await store.messages(conv.session.id)).map(m => shape(m))
      }
      server.reply(['ok'])

      await conv.send({model: MODEL, prompt: 'Remember me'})

      // Pending: a turn of another process reading the session now does not send it.
      expect(seen).to.deep.equal([userRow('Remember me', 0, {status: 'pending'})])
    })

    it('has committed the user message to the SQLite file, visible to another connection, while the reply is in flight', async () => {
      const sandbox = makeSandbox()
      const path = join(sandbox.root, 'sessions.db')
      const sqlite = await openSqliteStore({path})
      try {
        const session = await sqlite.create({model: MODEL, provider: 'openai'})
        const conv = new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store: sqlite})
        let seen: unknown
        server.onRequest = () => {
          const reader = new Database(path, {readonly: true})
          try {
            seen = reader.prepare('SELECT role, content, status, position FROM messages WHERE session_id = ? ORDER BY position').all(session.id)
          } finally {
            reader.close()
          }
        }
        server.reply(['Stored', ' later'], {delayMs: 20})

        const result = await conv.send({model: MODEL, prompt: 'Commit me first'})

        expect(seen).to.deep.equal([{content: 'Commit me first', position: 0, role: 'user', status: 'pending'}])
        expect(result.saved).to.equal(true)
        expect((await sqlite.messages(session.id)).map(m => [m.role, m.content, m.status])).to.deep.equal([
          ['user', 'Commit me first', 'complete'],
          ['assistant', 'Stored later', 'complete'],
        ])
      } finally {
        await sqlite.close()
        sandbox.cleanup()
      }
    })

    it('writes nothing while the reply streams', async () => {
      const conv = await conversation()
      const storedDuringDeltas: number[] = []
      server.reply(['a', 'b', 'c'], {delayMs: 5})

      await conv.send({
        model: MODEL,
        // The store is read as each delta arrives (the next one is 5 ms away): only the user message is there.
        onDelta: () => void store.messages(conv.session.id).then(m => storedDuringDeltas.push(m.length)),
        prompt: 'Stream',
      })

      expect(storedDuringDeltas).to.deep.equal([1, 1, 1])
    })
  })

  describe('the request', () => {
    it('carries the system prompt, the history and the prompt, with the model, temperature and max tokens asked for', async () => {
      const conv = await conversation()
      server.reply(['First answer'])
      server.reply(['Second answer'])

      await conv.send({maxTokens: 64, model: MODEL, prompt: 'First question', temperature: 0.5})
      await conv.send({model: 'gpt-fake-large', prompt: 'Second question'})

      expect(server.chatRequests).to.have.length(2)
      expect(server.chatRequests[0].chat).to.deep.equal({
        maxTokens: 64,
        messages: [
          {content: SYSTEM, role: 'system'},
          {content: 'First question', role: 'user'},
        ],
        model: MODEL,
        stream: true,
        temperature: 0.5,
      })
      expect(server.chatRequests[1].chat).to.deep.equal({
        messages: [
          {content: SYSTEM, role: 'system'},
          {content: 'First question', role: 'user'},
          {content: 'First answer', role: 'assistant'},
          {content: 'Second question', role: 'user'},
        ],
        model: 'gpt-fake-large',
        stream: true,
      })
    })

    it('sends no system message for a session without a system prompt', async () => {
      const session = await store.create({model: MODEL, provider: 'openai'})
      const conv = new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store})
      server.reply(['ok'])

      await conv.send({model: MODEL, prompt: 'Hi'})

      expect(chatOf(server, 0)).to.deep.equal([{content: 'Hi', role: 'user'}])
    })

    it('applies the context budget and reports how many earlier messages it left out', async () => {
      const conv = await conversation({budget: {maxMessages: 2, maxTokens: 0}})
      server.reply(['a1'])
      server.reply(['a2'])
      server.reply(['a3'])

      const first = await conv.send({model: MODEL, prompt: 'q1'})
      const second = await conv.send({model: MODEL, prompt: 'q2'})
      const third = await conv.send({model: MODEL, prompt: 'q3'})

      expect([first.omitted, second.omitted, third.omitted]).to.deep.equal([0, 0, 2])
      expect(chatOf(server, 2)).to.deep.equal([
        {content: SYSTEM, role: 'system'},
        {content: 'q2', role: 'user'},
        {content: 'a2', role: 'assistant'},
        {content: 'q3', role: 'user'},
      ])
      // Left out of the request, not out of storage.
      expect(await store.messages(conv.session.id)).to.have.length(6)
    })
  })

  describe('interruptions', () => {
    it('keeps the partial reply as an interrupted message when aborted after the first delta', async () => {
      const conv = await conversation()
      // 'Par' and 'tial' are both sent, then the server stalls; the abort comes after the first delta.
      server.reply(['Par', 'tial', ' never sent'], {stallAfterChunks: 2})
      const controller = new AbortController()
      const deltas: string[] = []

      const result = await conv.send({
        model: MODEL,
        onDelta: text => {
          deltas.push(text)
          controller.abort()
        },
        prompt: 'Tell me a long story',
        signal: controller.signal,
      })

      expect(deltas).to.deep.equal(['Par'])
      const {durationMs, timeToFirstTokenMs, ...rest} = result
      expect(rest).to.deep.equal({
        finishReason: null,
        model: MODEL,
        omitted: 0,
        provider: 'openai',
        reply: 'Par',
        saved: true,
        sessionId: conv.session.id,
        status: 'interrupted',
        cost: {costSource: null, costUsd: null},
        usage: {cachedInputTokens: null, inputTokens: requestEstimate([SYSTEM, 'Tell me a long story']), outputTokens: 1, tokenSource: 'estimate'},
      })
      expect(timeToFirstTokenMs).to.be.a('number').and.at.most(durationMs)

      const stored = await store.messages(conv.session.id)
      expect(stored.map(m => shape(m))).to.deep.equal([
        userRow('Tell me a long story', 0),
        {
          ...NO_USAGE,
          content: 'Par',
          durationMs,
          finishReason: null,
          hiddenAt: null,
          // What arrived was paid for: counted as a reply nobody reported on.
          inputTokens: requestEstimate([SYSTEM, 'Tell me a long story']),
          tokenSource: 'estimate',
          metadata: {},
          model: MODEL,
          outputTokens: 1,
          position: 1,
          provider: 'openai',
          replyTo: stored[0].id,
          role: 'assistant',
          status: 'interrupted',
          supersededBy: null,
        },
      ])
    })

    it('sends the interrupted exchange as context of the next turn', async () => {
      const conv = await conversation()
      server.reply(['Half'], {stallAfterChunks: 1})
      server.reply(['Whole'])
      const controller = new AbortController()

      await conv.send({model: MODEL, onDelta: () => controller.abort(), prompt: 'q1', signal: controller.signal})
      await conv.send({model: MODEL, prompt: 'q2'})

      expect(chatOf(server, 1)).to.deep.equal([
        {content: SYSTEM, role: 'system'},
        {content: 'q1', role: 'user'},
        {content: 'Half', role: 'assistant'},
        {content: 'q2', role: 'user'},
      ])
    })

    it('stores no reply and marks the user message as an interrupted error when aborted before any delta', async () => {
      const conv = await conversation()
      server.reply(['never'], {stallAfterChunks: 0})
      const controller = new AbortController()
      server.onRequest = () => {
        setTimeout(() => controller.abort(), 20)
      }

      const result = await conv.send({model: MODEL, onDelta: () => expect.fail('no delta expected'), prompt: 'Are you there?', signal: controller.signal})

      expect({reply: result.reply, saved: result.saved, status: result.status, timeToFirstTokenMs: result.timeToFirstTokenMs}).to.deep.equal({
        reply: '',
        saved: true,
        status: 'interrupted',
        timeToFirstTokenMs: null,
      })
      const stored = await store.messages(conv.session.id)
      expect(stored.map(m => shape(m))).to.deep.equal([userRow('Are you there?', 0, {metadata: {interrupted: true}, status: 'error'})])
    })

    it('treats a signal aborted before the turn like an abort before any delta, and does not resend that prompt', async () => {
      const conv = await conversation()
      const controller = new AbortController()
      controller.abort()

      const result = await conv.send({model: MODEL, prompt: 'Never mind', signal: controller.signal})
      server.reply(['ok'])
      await conv.send({model: MODEL, prompt: 'Next'})

      expect(result.status).to.equal('interrupted')
      expect(server.chatRequests).to.have.length(1)
      expect(chatOf(server, 0)).to.deep.equal([
        {content: SYSTEM, role: 'system'},
        {content: 'Next', role: 'user'},
      ])
      expect((await store.messages(conv.session.id)).map(m => [m.content, m.status, m.metadata])).to.deep.equal([
        ['Never mind', 'error', {interrupted: true}],
        ['Next', 'complete', {}],
        ['ok', 'complete', {}],
      ])
    })
  })

  describe('provider errors', () => {
    const cases = [
      {
        code: 'PROVIDER_AUTH',
        message: 'The openai provider rejected the API key (401): Incorrect API key provided.',
        status: 401,
        text: 'Incorrect API key provided.',
      },
      {
        code: 'PROVIDER_NOT_FOUND',
        message: `The openai provider does not know the model "${MODEL}" (404): The model does not exist.`,
        status: 404,
        text: 'The model does not exist.',
      },
      {code: 'PROVIDER_ERROR', message: 'The openai provider failed with HTTP 500: Something broke.', status: 500, text: 'Something broke.'},
    ] as const

    for (const {code, message, status, text} of cases) {
      it(`HTTP ${status}: throws ${code}, marks the user message as failed, and does not send it again`, async () => {
        const conv = await conversation()
        server.fail(status, text)
        server.reply(['Fine now'])
        const deltas: string[] = []

        const error = await rejection(conv.send({model: MODEL, onDelta: t => deltas.push(t), prompt: 'Doomed'}))

        expect({code: error.code, message: error.message}).to.deep.equal({code, message})
        expect(deltas).to.deep.equal([])
        const [failed, ...others] = await store.messages(conv.session.id)
        expect(others).to.deep.equal([])
        expect(shape(failed)).to.deep.equal(userRow('Doomed', 0, {metadata: {error: {code, message}}, status: 'error'}))

        const next = await conv.send({model: MODEL, prompt: 'Try this instead'})

        expect(next.reply).to.equal('Fine now')
        expect(chatOf(server, 1)).to.deep.equal([
          {content: SYSTEM, role: 'system'},
          {content: 'Try this instead', role: 'user'},
        ])
      })
    }

    it('connection refused: throws PROVIDER_ERROR and marks the user message; the next turn elsewhere does not send it', async () => {
      const dead = await FakeOpenAIServer.start()
      const deadUrl = dead.url
      await dead.close()
      const conv = await conversation({provider: providerFor(deadUrl)})

      const error = await rejection(conv.send({model: MODEL, prompt: 'Anyone?'}))

      const expected = `Could not connect to the openai provider at ${deadUrl} (ECONNREFUSED).`
      expect({code: error.code, message: error.message}).to.deep.equal({code: 'PROVIDER_ERROR', message: expected})
      const stored = await store.messages(conv.session.id)
      expect(stored.map(m => shape(m))).to.deep.equal([
        userRow('Anyone?', 0, {metadata: {error: {code: 'PROVIDER_ERROR', message: expected}}, status: 'error'}),
      ])

      await conv.use(provider, MODEL)
      server.reply(['Here'])
      await conv.send({model: MODEL, prompt: 'Hello?'})

      expect(chatOf(server, 0)).to.deep.equal([
        {content: SYSTEM, role: 'system'},
        {content: 'Hello?', role: 'user'},
      ])
    })

    it('a connection dropped mid-reply: throws PROVIDER_ERROR after the deltas, and the next request never holds a question without its answer', async () => {
      const conv = await conversation()
      server.reply(['Partly', ' there', ' and more'], {dropAfterChunks: 2})
      server.reply(['Recovered'])
      const deltas: string[] = []

      const error = await rejection(conv.send({model: MODEL, onDelta: t => deltas.push(t), prompt: 'Dropped'}))
      await conv.send({model: MODEL, prompt: 'Again'})

      expect(error.code).to.equal('PROVIDER_ERROR')
      expect(deltas).to.deep.equal(['Partly', ' there'])
      const roles = chatOf(server, 1).map(m => m.role)
      for (let i = 1; i < roles.length; i++)
        expect(roles[i] === 'user' && roles[i - 1] === 'user', `two user messages in a row: ${roles.join(', ')}`).to.equal(false)
      expect(chatOf(server, 1).at(-1)).to.deep.equal({content: 'Again', role: 'user'})
    })

    it('tells onQuestion the stored question before the request goes out: a failed turn can name it', async () => {
      const conv = await conversation()
      server.fail(500, 'Server on fire')
      const told: Array<{id: string; stored: string[]}> = []

      await rejection(
        conv.send({
          model: MODEL,
          onQuestion: question => told.push({id: question.id, stored: server.chatRequests.map(r => r.chat!.messages.at(-1)!.content)}),
          prompt: 'Will it fail?',
        }),
      )

      const [question] = await store.messages(conv.session.id)
      expect(told).to.deep.equal([{id: question.id, stored: []}])
      expect(question).to.deep.include({content: 'Will it fail?', status: 'error'})
      expect(conv.kept).to.equal(true)
    })

    it('tells onQuestion the question a retry asks again, not a new one', async () => {
      const conv = await conversation()
      server.reply(['First'])
      server.fail(500, 'Server on fire')
      await conv.send({model: MODEL, prompt: 'Ask twice'})
      const told: string[] = []

      await rejection(conv.retry({model: MODEL, onQuestion: question => told.push(question.id)}))

      const [question] = await store.messages(conv.session.id)
      expect(told).to.deep.equal([question.id])
    })
  })

  describe('storage failures', () => {
    let sandbox: Sandbox
    let path: string
    let sqlite: SessionStore
    let blocker: Database.Database | undefined

    beforeEach(async () => {
      sandbox = makeSandbox()
      path = join(sandbox.root, 'sessions.db')
      sqlite = await openSqliteStore({busyTimeoutMs: 50, path})
    })

    afterEach(async () => {
      if (blocker?.inTransaction) blocker.exec('ROLLBACK')
      blocker?.close()
      blocker = undefined
      await sqlite.close()
      sandbox.cleanup()
    })

    /** Another connection takes the write lock and keeps it, as a stuck process would. */
    function lockDatabase(): void {
      blocker = new Database(path)
      blocker.exec('BEGIN IMMEDIATE')
    }

    function unlockDatabase(): void {
      blocker?.exec('ROLLBACK')
    }

    it('delivers the whole reply when the database stays locked, and reports saved: false with a STORAGE_BUSY saveError', async () => {
      const session = await sqlite.create({model: MODEL, provider: 'openai', systemPrompt: SYSTEM})
      await sqlite.append(session.id, [
        {content: 'Earlier question', role: 'user'},
        {content: 'Earlier answer', role: 'assistant'},
      ])
      const conv = new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store: sqlite})
      server.reply(['Still', ' delivered'], {usage: {inputTokens: 5, outputTokens: 2}})
      const deltas: string[] = []
      lockDatabase()

      const result = await conv.send({model: MODEL, onDelta: t => deltas.push(t), prompt: 'Locked out'})

      expect(deltas).to.deep.equal(['Still', ' delivered'])
      expect({reply: result.reply, saved: result.saved, status: result.status, usage: result.usage}).to.deep.equal({
        reply: 'Still delivered',
        saved: false,
        status: 'complete',
        usage: {cachedInputTokens: null, inputTokens: 5, outputTokens: 2, tokenSource: 'provider'},
      })
      expect(result.saveError instanceof SynapseError).to.equal(true)
      expect((result.saveError as SynapseError).code).to.equal('STORAGE_BUSY')
      // The history could still be read: the request was the real conversation.
      expect(chatOf(server, 0)).to.deep.equal([
        {content: SYSTEM, role: 'system'},
        {content: 'Earlier question', role: 'user'},
        {content: 'Earlier answer', role: 'assistant'},
        {content: 'Locked out', role: 'user'},
      ])
      unlockDatabase()
      expect((await sqlite.messages(session.id)).map(m => m.content)).to.deep.equal(['Earlier question', 'Earlier answer'])
    })

    it('an interrupted reply that cannot be saved is still returned, with the saveError', async () => {
      const session = await sqlite.create({model: MODEL, provider: 'openai'})
      const conv = new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store: sqlite})
      server.reply(['Cut', ' off'], {stallAfterChunks: 1})
      const controller = new AbortController()
      lockDatabase()

      const result = await conv.send({model: MODEL, onDelta: () => controller.abort(), prompt: 'Locked', signal: controller.signal})

      expect({reply: result.reply, saved: result.saved, status: result.status}).to.deep.equal({reply: 'Cut', saved: false, status: 'interrupted'})
      expect((result.saveError as SynapseError).code).to.equal('STORAGE_BUSY')
    })

    // The store can recover between the two writes of a turn: a reply must never be stored without its question.
    it('never stores a reply whose question could not be stored, even when the store recovers mid-turn', async () => {
      const session = await sqlite.create({model: MODEL, provider: 'openai'})
      const conv = new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store: sqlite})
      // The lock is held while the user message is written, and released once the request is out.
      server.onRequest = () => unlockDatabase()
      server.reply(['An answer'])
      lockDatabase()

      const result = await conv.send({model: MODEL, prompt: 'A question'})

      expect(result.saved).to.equal(false)
      expect((result.saveError as SynapseError).code).to.equal('STORAGE_BUSY')
      const stored = (await sqlite.messages(session.id)).map(m => [m.role, m.content])
      // Either the whole exchange or nothing of it; never the answer alone.
      expect(stored, 'an answer was stored without its question').to.deep.be.oneOf([
        [],
        [
          ['user', 'A question'],
          ['assistant', 'An answer'],
        ],
      ])
    })
  })

  describe('persistent: false', () => {
    it('reports saved: false without a saveError, and still keeps the exchange as context', async () => {
      const conv = await conversation({persistent: false})
      server.reply(['One'])
      server.reply(['Two'])

      const first: TurnResult = await conv.send({model: MODEL, prompt: 'q1'})
      await conv.send({model: MODEL, prompt: 'q2'})

      expect(first.saved).to.equal(false)
      expect(conv.kept, 'nothing another run could continue').to.equal(false)
      expect('saveError' in first).to.equal(false)
      expect(first.status).to.equal('complete')
      expect(chatOf(server, 1)).to.deep.equal([
        {content: SYSTEM, role: 'system'},
        {content: 'q1', role: 'user'},
        {content: 'One', role: 'assistant'},
        {content: 'q2', role: 'user'},
      ])
    })
  })

  describe('use and startNew', () => {
    it('use() switches the provider later turns go to and stores the model on the session', async () => {
      const conv = await conversation()
      const other = await FakeOpenAIServer.start()
      try {
        other.reply(['From the other server'])

        await conv.use(providerFor(other.url), 'gpt-fake-large')
        const result = await conv.send({model: conv.session.model!, prompt: 'Which one?'})

        expect(server.chatRequests).to.have.length(0)
        expect(other.chatRequests.map(r => r.chat?.model)).to.deep.equal(['gpt-fake-large'])
        expect({model: result.model, reply: result.reply}).to.deep.equal({model: 'gpt-fake-large', reply: 'From the other server'})
        expect({model: conv.session.model, provider: conv.session.provider}).to.deep.equal({model: 'gpt-fake-large', provider: 'openai'})
        const stored = await store.get(conv.session.id)
        expect({model: stored.model, provider: stored.provider}).to.deep.equal({model: 'gpt-fake-large', provider: 'openai'})
        const [, reply] = await store.messages(conv.session.id)
        expect(reply.model).to.equal('gpt-fake-large')
      } finally {
        await other.close()
      }
    })

    it('use() without persistence changes the conversation, not the stored session', async () => {
      const conv = await conversation({persistent: false})

      await conv.use(provider, 'gpt-fake-large')

      expect(conv.session.model).to.equal('gpt-fake-large')
      expect((await store.get(conv.session.id)).model).to.equal(MODEL)
    })

    it('startNew() continues in a new empty session with the same provider, model and system prompt', async () => {
      const conv = await conversation()
      server.reply(['Old answer'])
      server.reply(['New answer'])
      await conv.send({model: MODEL, prompt: 'Old question'})
      await conv.use(provider, 'gpt-fake-large')
      const oldId = conv.session.id

      const fresh = await conv.startNew()
      const result = await conv.send({model: 'gpt-fake-large', prompt: 'New question'})

      expect(fresh.id).to.not.equal(oldId)
      expect(conv.session.id).to.equal(fresh.id)
      expect({model: fresh.model, provider: fresh.provider, systemPrompt: fresh.systemPrompt, title: fresh.title}).to.deep.equal({
        model: 'gpt-fake-large',
        provider: 'openai',
        systemPrompt: SYSTEM,
        title: null,
      })
      expect(result.sessionId).to.equal(fresh.id)
      expect(chatOf(server, 1)).to.deep.equal([
        {content: SYSTEM, role: 'system'},
        {content: 'New question', role: 'user'},
      ])
      expect(await store.count()).to.equal(2)
      expect((await store.messages(oldId)).map(m => m.content)).to.deep.equal(['Old question', 'Old answer'])
      expect((await store.messages(fresh.id)).map(m => m.content)).to.deep.equal(['New question', 'New answer'])
    })
  })
})
