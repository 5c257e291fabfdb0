/**
 * The Provider conformance suite. Every provider, built in or from a plugin, runs it in one line
 * against a fake HTTP server that speaks its wire protocol (see fake-chat-server.ts):
 *
 *   providerConformanceSuite({descriptor: openaiProvider, startServer: () => FakeOpenAIServer.start()})
 *
 * The suite creates every provider itself, through core's `createProvider`, as the CLI does. Besides
 * streaming, the request and cancellation, it holds the failures every provider meets alike (a
 * missing key, a refused connection, 401, 404, 429 and 5xx after retries, a server that never answers
 * or stalls, an HTML page, a malformed stream), with the exact words core gives them, so that the
 * same failure reads the same whichever provider met it.
 *
 * It registers mocha `describe`/`it` blocks (mocha globals) and asserts with chai.
 */
import {expect} from 'chai'

import {SynapseError} from '../core/errors.js'
import {createProvider, needsApiKey} from '../providers/create.js'
import type {ChatMessage, Provider, ProviderDescriptor, ProviderSettings, StreamEvent} from '../providers/provider.js'
import {baseUrlSetting} from '../providers/support.js'

// ---------------------------------------------------------------------------------------------------
// What the suite needs from a fake server. Fakes live with each provider's tests and implement this.
// ---------------------------------------------------------------------------------------------------

/** A reply streamed (or, for a non-streaming request, returned whole) by the fake server. */
export interface ScriptedReply {
  /** The reply text as the pieces to stream, one content event each; joined for a non-streaming request. */
  chunks: string[]
  /** Milliseconds to wait before each content piece. */
  delayMs?: number
  /** Destroy the socket after this many content pieces were sent: a connection lost mid-reply. */
  dropAfterChunks?: number
  /** Send nothing, not even headers, until this settles: lets a test make two clients' requests meet. */
  heldUntil?: Promise<unknown>
  /** Sent verbatim in the wire protocol's stop-reason field; default: that protocol's normal stop ('stop' for OpenAI). */
  finishReason?: null | string
  /** The model the server claims answered; default: the requested model. */
  model?: string
  /** Send nothing more after this many content pieces, keeping the connection open until the client leaves or the server closes. */
  stallAfterChunks?: number
  type: 'reply'
  /**
   * Reported usage; null: report none even when asked to. Default: 1 input token, one output token
   * per chunk. `cachedInputTokens` (part of `inputTokens`) is reported in the protocol's cache field
   * (OpenAI `prompt_tokens_details.cached_tokens`, Anthropic `cache_read_input_tokens`); `costUsd` in
   * OpenRouter's `usage.cost`, where the protocol has one.
   */
  usage?: null | ScriptedUsage
}

export interface ScriptedUsage {
  cachedInputTokens?: number
  costUsd?: number
  inputTokens: number
  outputTokens: number
}

/** An error response in the protocol's error shape (OpenAI: `{error: {message, type, code}}`). */
export interface ScriptedError {
  code?: null | string
  /** The protocol's error type; default derived from the status. */
  errorType?: string
  /** Extra response headers, such as `retry-after-ms: 0` to keep SDK retries instant. */
  headers?: Record<string, string>
  message: string
  status: number
  type: 'error'
}

/** Read the request, then never answer (not even headers) until the client leaves or the server closes. */
export interface ScriptedNoResponse {
  type: 'no-response'
}

/**
 * A response written verbatim, whatever the protocol: what a wrong base URL or a broken proxy sends
 * (an HTML page with 200, an SSE stream whose data is not JSON).
 */
export interface ScriptedRaw {
  body: string
  /** The content-type header; null: none is sent. */
  contentType: null | string
  /** Default 200. */
  status?: number
  type: 'raw'
}

export type ScriptedResponse = ScriptedError | ScriptedNoResponse | ScriptedRaw | ScriptedReply

/** A chat request as the fake understood it, in provider-neutral terms. */
export interface RecordedChat {
  maxTokens?: number
  /** System prompt first (however the protocol carries it), then the messages in order. */
  messages: ChatMessage[]
  model: string
  stream: boolean
  temperature?: number
}

export interface RecordedRequest {
  /** The parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  body: unknown
  /** Set when this was a chat request the fake understood. */
  chat?: RecordedChat
  /** Becomes true when the client closed the connection before the fake finished its response. */
  clientClosedEarly: boolean
  /** Header names are lower case. */
  headers: Record<string, string>
  method: string
  path: string
  /**
   * When the request began to arrive, in `performance.now()` milliseconds: the server's own record
   * of when a client came back, say after a retry-after.
   */
  receivedAt: number
}

export interface FakeChatServerLike {
  /** Closes the listener and every open connection, stalled ones included. Idempotent. */
  close(): Promise<void>
  /** Queues responses for the next chat requests, in order; each is used once. */
  enqueue(...responses: ScriptedResponse[]): void
  /** Every request received, in arrival order, chat or not. */
  readonly requests: readonly RecordedRequest[]
  /** The response for chat requests once the queue is empty. */
  setDefault(response: ScriptedResponse): void
  /** The base URL to give the provider (`ProviderSettings.baseUrl`), e.g. `http://127.0.0.1:PORT/v1`. */
  readonly url: string
}

// ---------------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------------

export interface ProviderSuiteOptions {
  /**
   * For an API that refuses a request without a cap on the reply (Anthropic's Messages API): the cap
   * the provider sends when none is given. Default: none is sent, the server decides.
   */
  defaultMaxTokens?: number
  /**
   * The provider under test, as it registers. The suite creates it through `createProvider` with
   * `baseUrl` set to the server's URL, a key of its own, and one retry (so that 429 and 5xx go through
   * the SDK's retry path; the suite answers them with `retry-after-ms: 0`) unless a case says otherwise.
   */
  descriptor: ProviderDescriptor
  /** Provider options (`ProviderSettings.extra`) every provider of the suite gets; default none. */
  extra?: ProviderSettings['extra']
  /** The model the suite asks for; default 'conformance-model'. The fake must accept any model. */
  model?: string
  /** Names the `describe` block; default the descriptor's name. */
  name?: string
  /**
   * false for a protocol with no prompt-cache counts: the suite then skips the case that checks
   * `cachedInputTokens` is reported. Default true.
   */
  reportsCachedTokens?: boolean
  /** A fresh fake server speaking the provider's wire protocol, listening; it must accept any key. */
  startServer(): Promise<FakeChatServerLike>
}

/** What a case may change about the provider the suite creates. */
interface ProviderSuiteStartOptions {
  apiKey?: string
  idleTimeoutMs?: number
  maxRetries?: number
  timeoutMs?: number
}

interface ProviderSuiteFixture {
  provider: Provider
  server: FakeChatServerLike
}

/** Everything one `stream()` call produced: what was yielded, and what was thrown after it, if anything. */
export interface StreamOutcome {
  deltas: string[]
  done: Extract<StreamEvent, {type: 'done'}>[]
  error?: unknown
  events: StreamEvent[]
}

/** Drains `provider.stream(...)`, calling `onEvent` after each event (to abort, say); never throws. */
export async function drainStream(
  provider: Provider,
  messages: ChatMessage[],
  options: Parameters<Provider['stream']>[1],
  onEvent?: (event: StreamEvent, events: StreamEvent[]) => void,
): Promise<StreamOutcome> {
  const events: StreamEvent[] = []
  let error: unknown
  try {
    for await (const event of provider.stream(messages, options)) {
      events.push(event)
      onEvent?.(event, events)
    }
  } catch (thrown) {
    error = thrown
  }

  return {
    deltas: events.flatMap(event => (event.type === 'delta' ? [event.text] : [])),
    done: events.flatMap(event => (event.type === 'done' ? [event] : [])),
    error,
    events,
  }
}

/** Polls `condition` until it holds; fails the test after `ms`. */
export async function eventually(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting until ${what}`)
    await new Promise(resolve => {
      setTimeout(resolve, 10)
    })
  }
}

function expectSynapseError(error: unknown, code: SynapseError['code'], exitCode = 1): SynapseError {
  expect(error, 'the stream should have thrown').to.be.instanceOf(SynapseError)
  const synapseError = error as SynapseError
  expect(synapseError.code).to.equal(code)
  expect(synapseError.exitCode).to.equal(exitCode)
  expect(synapseError.message, 'messages are one line').to.not.match(/[\r\n]/)
  expect(synapseError.message.length).to.be.greaterThan(0)
  for (const suggestion of synapseError.suggestions) expect(suggestion, 'suggestions are one line each').to.not.match(/[\r\n]/)
  return synapseError
}

const CONVERSATION: ChatMessage[] = [
  {content: 'You are terse.', role: 'system'},
  {content: 'Name a colour.', role: 'user'},
  {content: 'Teal.', role: 'assistant'},
  {content: 'Another one?', role: 'user'},
]

const INSTANT_RETRY = {'retry-after-ms': '0'}

/** Not a real key; the suite checks that it never reaches a message. */
const SUITE_KEY = 'sk-conformance-3e8d1f6a9c2b5d70'

/** Sleeps, for a caller slower than the server. */
async function sleep(ms: number): Promise<void> {
  await new Promise(resolve => {
    setTimeout(resolve, ms)
  })
}

/** Registers the Provider contract as mocha tests; see the file comment. */
export function providerConformanceSuite(options: ProviderSuiteOptions): void {
  const {descriptor} = options
  const name = descriptor.name
  const model = options.model ?? 'conformance-model'
  const ask: ChatMessage[] = [{content: 'Say hello.', role: 'user'}]

  describe(`Provider conformance: ${options.name ?? name}`, () => {
    let fixture: ProviderSuiteFixture | undefined
    const open = async ({apiKey = SUITE_KEY, idleTimeoutMs, maxRetries = 1, timeoutMs}: ProviderSuiteStartOptions = {}) => {
      await fixture?.server.close()
      const server = await options.startServer()
      fixture = {server, provider: createProvider(descriptor, {apiKey, baseUrl: server.url, extra: {...options.extra}, idleTimeoutMs, maxRetries, timeoutMs})}
      return fixture
    }

    afterEach(async () => {
      await fixture?.server.close()
      fixture = undefined
    })

    describe('streaming', () => {
      it('yields one delta per streamed piece, then exactly one done event with usage and finish reason', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['Hel', 'lo', ', wor', 'ld!'], finishReason: 'length', type: 'reply', usage: {inputTokens: 7, outputTokens: 4}})

        const outcome = await drainStream(provider, ask, {model})

        expect(outcome.error).to.equal(undefined)
        expect(outcome.deltas).to.deep.equal(['Hel', 'lo', ', wor', 'ld!'])
        expect(outcome.deltas.join('')).to.equal('Hello, world!')
        expect(outcome.done).to.have.length(1)
        expect(outcome.events.at(-1)).to.equal(outcome.done[0])
        const {finishReason, model: answered, usage} = outcome.done[0]
        const counts = {inputTokens: usage.inputTokens, outputTokens: usage.outputTokens}
        expect({answered, counts, finishReason}).to.deep.equal({answered: model, counts: {inputTokens: 7, outputTokens: 4}, finishReason: 'length'})
        expect(usage.cachedInputTokens ?? 0, 'no prompt was cached').to.equal(0)
      })

      if (options.reportsCachedTokens !== false)
        it('reports the input tokens read from the prompt cache as part of the input tokens', async () => {
          const {provider, server} = await open()
          server.enqueue({chunks: ['ok'], type: 'reply', usage: {cachedInputTokens: 6, inputTokens: 10, outputTokens: 1}})

          const outcome = await drainStream(provider, ask, {model})

          expect(outcome.error).to.equal(undefined)
          const [{usage}] = outcome.done
          expect({cached: usage.cachedInputTokens, input: usage.inputTokens, output: usage.outputTokens}).to.deep.equal({cached: 6, input: 10, output: 1})
        })

      it('reports the model the server says answered', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['ok'], model: 'served-model-2026', type: 'reply'})

        const outcome = await drainStream(provider, ask, {model})

        expect(outcome.error).to.equal(undefined)
        expect(outcome.done.map(done => done.model)).to.deep.equal(['served-model-2026'])
      })

      it('reports null token counts when the server sends no usage', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['ok'], type: 'reply', usage: null})

        const outcome = await drainStream(provider, ask, {model})

        expect(outcome.error).to.equal(undefined)
        expect(outcome.done.map(({usage}) => [usage.inputTokens, usage.outputTokens, usage.cachedInputTokens ?? null])).to.deep.equal([[null, null, null]])
      })

      it('ends an empty reply with a done event alone', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: [], type: 'reply', usage: {inputTokens: 3, outputTokens: 0}})

        const outcome = await drainStream(provider, ask, {model})

        expect(outcome.error).to.equal(undefined)
        expect(outcome.events.map(event => event.type)).to.deep.equal(['done'])
        expect([outcome.done[0].usage.inputTokens, outcome.done[0].usage.outputTokens]).to.deep.equal([3, 0])
      })
    })

    describe('the request', () => {
      it('sends the whole conversation in order, system prompt first, as a streaming request', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['Coral.'], type: 'reply'})

        const outcome = await drainStream(provider, CONVERSATION, {model})

        expect(outcome.error).to.equal(undefined)
        const chats = server.requests.flatMap(request => (request.chat ? [request.chat] : []))
        expect(chats).to.have.length(1)
        expect(chats[0].messages).to.deep.equal(CONVERSATION)
        expect(chats[0].model).to.equal(model)
        expect(chats[0].stream).to.equal(true)
      })

      it('sends temperature and max tokens when given', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['ok'], type: 'reply'})

        await drainStream(provider, ask, {maxTokens: 64, model, temperature: 0.25})

        const chat = server.requests.find(request => request.chat)?.chat
        expect({maxTokens: chat?.maxTokens, temperature: chat?.temperature}).to.deep.equal({maxTokens: 64, temperature: 0.25})
      })

      it('leaves temperature and max tokens to the server when not given (or sends the documented default cap)', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['ok'], type: 'reply'})

        await drainStream(provider, ask, {model})

        const chat = server.requests.find(request => request.chat)?.chat
        expect(chat).to.not.equal(undefined)
        expect({maxTokens: chat?.maxTokens, temperature: chat?.temperature}).to.deep.equal({maxTokens: options.defaultMaxTokens, temperature: undefined})
      })
    })

    describe('cancellation', () => {
      it('throws INTERRUPTED (exit code 130) after the deltas already yielded when aborted mid-stream, and closes the request', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['one ', 'two ', 'three'], stallAfterChunks: 2, type: 'reply'})
        const controller = new AbortController()

        const outcome = await drainStream(provider, ask, {model, signal: controller.signal}, (_event, events) => {
          if (events.length === 2) controller.abort()
        })

        expectSynapseError(outcome.error, 'INTERRUPTED', 130)
        expect(outcome.events).to.deep.equal([
          {text: 'one ', type: 'delta'},
          {text: 'two ', type: 'delta'},
        ])
        await eventually(() => server.requests[0]?.clientClosedEarly === true, 'the server sees the request closed')
      })

      it('throws INTERRUPTED while waiting for the response to start', async () => {
        const {provider, server} = await open()
        server.enqueue({type: 'no-response'})
        const controller = new AbortController()
        // Aborted once the server holds the request: the wait for the response is what is cut short.
        const held = eventually(() => server.requests.length === 1, 'the server has the request', 10_000).finally(() => controller.abort())

        const outcome = await drainStream(provider, ask, {model, signal: controller.signal})

        await held
        expectSynapseError(outcome.error, 'INTERRUPTED', 130)
        expect(outcome.events).to.deep.equal([])
        await eventually(() => server.requests[0].clientClosedEarly, 'the server sees the request closed')
      })

      it('sends nothing when the signal is already aborted', async () => {
        const {provider, server} = await open()
        const controller = new AbortController()
        controller.abort()

        const outcome = await drainStream(provider, ask, {model, signal: controller.signal})

        expect(expectSynapseError(outcome.error, 'INTERRUPTED', 130).toJSON()).to.deep.equal({
          code: 'INTERRUPTED',
          exitCode: 130,
          message: `The ${name} request was interrupted.`,
          suggestions: [],
        })
        expect(outcome.events).to.deep.equal([])
        expect(server.requests).to.have.length(0)
      })

      it('closes the request when the caller stops iterating early', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['first', 'second'], stallAfterChunks: 1, type: 'reply'})

        const seen: StreamEvent[] = []
        for await (const event of provider.stream(ask, {model})) {
          seen.push(event)
          break
        }

        expect(seen).to.deep.equal([{text: 'first', type: 'delta'}])
        await eventually(() => server.requests[0]?.clientClosedEarly === true, 'the server sees the request closed')
      })
    })

    // A provider that never needs a key (one for a local server) has no such case.
    if (needsApiKey(descriptor, {extra: {...options.extra}})) {
      describe('the API key', () => {
        const variable = descriptor.apiKeyEnv
        const expected = {
          code: 'MISSING_API_KEY',
          exitCode: 1,
          message: `The ${name} provider needs an API key: ${variable ? `set ${variable}, ` : ''}run "synapse keys set ${name}" or set providers.${name}.api_key in the config.`,
          suggestions: [
            ...(descriptor.apiKeyUrl ? [`Create a key at ${descriptor.apiKeyUrl}.`] : []),
            ...(descriptor.needsApiKey ? [`For a server that needs no key, set ${baseUrlSetting(name)} instead.`] : []),
          ],
        }
        /** The descriptor, counting the calls of its `create`. */
        const counted = () => {
          const calls: ProviderSettings[] = []
          return {
            calls,
            descriptor: {
              ...descriptor,
              create: (settings: ProviderSettings) => {
                calls.push(settings)
                return descriptor.create(settings)
              },
            },
          }
        }

        it('is refused with MISSING_API_KEY naming the variable and "synapse keys set", before any of the provider’s code runs', () => {
          const {calls, descriptor: watched} = counted()

          let thrown: unknown
          try {
            createProvider(watched, {extra: {...options.extra}})
          } catch (error) {
            thrown = error
          }

          expect(expectSynapseError(thrown, 'MISSING_API_KEY').toJSON()).to.deep.equal(expected)
          expect(calls).to.deep.equal([])
        })

        it('counts an empty key as none', () => {
          const {calls, descriptor: watched} = counted()

          expect(() => createProvider(watched, {apiKey: '', extra: {...options.extra}}))
            .to.throw(SynapseError)
            .with.property('code', 'MISSING_API_KEY')
          expect(calls).to.deep.equal([])
        })
      })
    }

    describe('failures', () => {
      const checkKey = `Check ${descriptor.apiKeyEnv ? `${descriptor.apiKeyEnv} (or providers.${name}.api_key in the config)` : `providers.${name}.api_key`}: the key may be wrong, revoked, or lack access to this model.`

      it('maps 401 to PROVIDER_AUTH, quoting the server, never echoing the key', async () => {
        const {provider, server} = await open()
        server.enqueue({code: 'invalid_api_key', message: `Incorrect API key provided: ${SUITE_KEY}. Check it.`, status: 401, type: 'error'})

        const outcome = await drainStream(provider, ask, {model})

        const error = expectSynapseError(outcome.error, 'PROVIDER_AUTH')
        expect(error.toJSON()).to.deep.equal({
          code: 'PROVIDER_AUTH',
          exitCode: 1,
          message: `The ${name} provider rejected the API key (401): Incorrect API key provided: [redacted]. Check it.`,
          suggestions: [checkKey],
        })
        expect(outcome.events).to.deep.equal([])
      })

      it('maps 403 to PROVIDER_AUTH', async () => {
        const {provider, server} = await open()
        server.enqueue({message: 'Your API key does not have permission to use the specified resource.', status: 403, type: 'error'})

        const outcome = await drainStream(provider, ask, {model})

        expect(expectSynapseError(outcome.error, 'PROVIDER_AUTH').message).to.equal(
          `The ${name} provider rejected the API key (403): Your API key does not have permission to use the specified resource.`,
        )
      })

      it('maps 404 to PROVIDER_NOT_FOUND naming the model, and suggests another first', async () => {
        const {provider, server} = await open()
        server.enqueue({code: 'model_not_found', message: `The model ${model} does not exist.`, status: 404, type: 'error'})

        const outcome = await drainStream(provider, ask, {model})

        const error = expectSynapseError(outcome.error, 'PROVIDER_NOT_FOUND')
        expect(error.message).to.equal(`The ${name} provider does not know the model "${model}" (404): The model ${model} does not exist.`)
        expect(error.suggestions[0]).to.equal('Choose another model with --model.')
      })

      it('maps 429 after the retries to PROVIDER_ERROR, and retries as configured', async () => {
        const {provider, server} = await open({maxRetries: 2})
        server.setDefault({code: 'rate_limit_exceeded', headers: INSTANT_RETRY, message: 'Slow down.', status: 429, type: 'error'})

        const outcome = await drainStream(provider, ask, {model})

        expect(expectSynapseError(outcome.error, 'PROVIDER_ERROR').toJSON()).to.deep.equal({
          code: 'PROVIDER_ERROR',
          exitCode: 1,
          message: `The ${name} provider rate-limited the request (429) after 2 retries: Slow down.`,
          suggestions: ['Wait a little, then try again.'],
        })
        expect(server.requests.filter(request => request.chat)).to.have.length(3)
      })

      for (const [status, said] of [
        [500, 'The server had an error.'],
        [503, 'The engine is currently overloaded.'],
      ] as const) {
        it(`maps ${status} after the retry to PROVIDER_ERROR naming the status`, async () => {
          const {provider, server} = await open()
          server.setDefault({headers: INSTANT_RETRY, message: said, status, type: 'error'})

          const outcome = await drainStream(provider, ask, {model})

          expect(expectSynapseError(outcome.error, 'PROVIDER_ERROR').toJSON()).to.deep.equal({
            code: 'PROVIDER_ERROR',
            exitCode: 1,
            message: `The ${name} provider failed with HTTP ${status} after 1 retry: ${said}`,
            suggestions: ['Try again later; the fault is on the server side.'],
          })
          expect(server.requests.filter(request => request.chat)).to.have.length(2)
        })
      }

      it('maps another 4xx to PROVIDER_ERROR quoting the server', async () => {
        const {provider, server} = await open()
        server.enqueue({message: 'messages: roles must alternate between "user" and "assistant"', status: 400, type: 'error'})

        const outcome = await drainStream(provider, ask, {model})

        expect(expectSynapseError(outcome.error, 'PROVIDER_ERROR').toJSON()).to.deep.equal({
          code: 'PROVIDER_ERROR',
          exitCode: 1,
          message: `The ${name} provider refused the request (400): messages: roles must alternate between "user" and "assistant"`,
          suggestions: [],
        })
      })

      it('keeps a long, multi-line server message to one line of 200 characters', async () => {
        const {provider, server} = await open({maxRetries: 0})
        server.enqueue({message: `first line\n\n${'x'.repeat(400)}`, status: 500, type: 'error'})

        const outcome = await drainStream(provider, ask, {model})

        const error = expectSynapseError(outcome.error, 'PROVIDER_ERROR')
        const prefix = `The ${name} provider failed with HTTP 500: `
        expect(error.message).to.equal(`${prefix}first line ${'x'.repeat(200 - 'first line '.length - 1)}…`)
        expect(error.message.length - prefix.length).to.equal(200)
      })

      it('maps a refused connection to PROVIDER_ERROR naming the server and its setting', async () => {
        const {provider, server} = await open()
        await server.close()

        const outcome = await drainStream(provider, ask, {model})

        expect(expectSynapseError(outcome.error, 'PROVIDER_ERROR').toJSON()).to.deep.equal({
          code: 'PROVIDER_ERROR',
          exitCode: 1,
          message: `Could not connect to the ${name} provider at ${server.url} (ECONNREFUSED).`,
          suggestions: [`Check that the server is running and reachable at ${server.url}.`, `Check ${baseUrlSetting(name)} in the config.`],
        })
      })

      it('maps a response that never starts to a PROVIDER_ERROR timeout naming the timeout and its setting, without retrying it', async () => {
        const {provider, server} = await open({idleTimeoutMs: 60_000, timeoutMs: 250})
        server.setDefault({type: 'no-response'})

        const outcome = await drainStream(provider, ask, {model})

        expect(expectSynapseError(outcome.error, 'PROVIDER_ERROR').toJSON()).to.deep.equal({
          code: 'PROVIDER_ERROR',
          exitCode: 1,
          message: `The ${name} provider at ${server.url} did not start its reply within 250 ms.`,
          suggestions: [`Try again; raise providers.${name}.timeout_ms (milliseconds) for a busy server or a model that is still loading.`],
        })
        expect(outcome.events).to.deep.equal([])
        // The SDKs retry their own timeouts; a limit the user set is the whole wait.
        expect(server.requests.filter(request => request.chat)).to.have.length(1)
      })

      it('times out a stream that stalls, after the deltas already yielded, naming the idle limit and its setting', async () => {
        const {provider, server} = await open({idleTimeoutMs: 250, timeoutMs: 60_000})
        server.enqueue({chunks: ['partial', ' rest'], stallAfterChunks: 1, type: 'reply'})

        const outcome = await drainStream(provider, ask, {model})

        expect(expectSynapseError(outcome.error, 'PROVIDER_ERROR').toJSON()).to.deep.equal({
          code: 'PROVIDER_ERROR',
          exitCode: 1,
          message: `The ${name} provider at ${server.url} sent nothing for 250 ms in the middle of its reply.`,
          suggestions: [`Try again; raise providers.${name}.idle_timeout_ms (milliseconds) if the model pauses this long.`],
        })
        expect(outcome.events).to.deep.equal([{text: 'partial', type: 'delta'}])
      })

      it('does not take a slow caller for a silent server', async () => {
        const {provider, server} = await open({idleTimeoutMs: 200})
        server.enqueue({chunks: ['a', 'b', 'c'], type: 'reply'})

        const deltas: string[] = []
        for await (const event of provider.stream(ask, {model})) {
          if (event.type === 'delta') deltas.push(event.text)
          await sleep(300)
        }

        expect(deltas).to.deep.equal(['a', 'b', 'c'])
      })

      it('maps an HTML page answered with 200 to one PROVIDER_ERROR line naming the server, with no reply', async () => {
        const {provider, server} = await open()
        server.enqueue({
          body: '<!doctype html><html><head><title>Welcome</title></head><body>It works!</body></html>',
          contentType: 'text/html; charset=utf-8',
          type: 'raw',
        })

        const outcome = await drainStream(provider, ask, {model})

        const error = expectSynapseError(outcome.error, 'PROVIDER_ERROR')
        expect(error.message).to.include(server.url).and.include('HTML page').and.include('base_url')
        expect(outcome.events).to.deep.equal([])
      })

      it('maps a stream that ends with no reply and no finish reason (no content type either) to PROVIDER_ERROR', async () => {
        const {provider, server} = await open()
        server.enqueue({body: 'nothing to see here\n', contentType: null, type: 'raw'})

        const outcome = await drainStream(provider, ask, {model})

        const error = expectSynapseError(outcome.error, 'PROVIDER_ERROR')
        expect(error.message).to.include(server.url)
        expect(outcome.events).to.deep.equal([])
      })

      it('maps a server-sent event whose data is not JSON to one PROVIDER_ERROR line, and the SDK logs nothing', async () => {
        const {provider, server} = await open()
        server.enqueue({body: 'event: message_start\ndata: {"type": "message_start", oops\n\n', contentType: 'text/event-stream', type: 'raw'})
        const logged: unknown[][] = []
        const originals = {debug: console.debug, error: console.error, info: console.info, log: console.log, warn: console.warn}
        for (const level of Object.keys(originals) as Array<keyof typeof originals>) console[level] = (...args: unknown[]) => logged.push(args)
        let outcome: StreamOutcome
        try {
          outcome = await drainStream(provider, ask, {model})
        } finally {
          Object.assign(console, originals)
        }

        const error = expectSynapseError(outcome.error, 'PROVIDER_ERROR')
        expect(error.message).to.include(server.url)
        expect(outcome.events).to.deep.equal([])
        expect(logged).to.deep.equal([])
      })

      it('maps a connection dropped mid-stream to PROVIDER_ERROR, after the deltas already yielded', async () => {
        const {provider, server} = await open()
        server.enqueue({chunks: ['kept', ' lost'], dropAfterChunks: 1, type: 'reply'})

        const outcome = await drainStream(provider, ask, {model})

        expect(expectSynapseError(outcome.error, 'PROVIDER_ERROR').message).to.equal(
          `The connection to the ${name} provider at ${server.url} broke in the middle of its reply (UND_ERR_SOCKET).`,
        )
        expect(outcome.events).to.deep.equal([{text: 'kept', type: 'delta'}])
      })
    })
  })
}
