import {expect} from 'chai'
import {inspect} from 'node:util'
import OpenAI from 'openai'

import {SynapseError} from '../../src/core/errors.js'
import {createProvider} from '../../src/providers/create.js'
import {OPENAI_BASE_URL, openaiProvider} from '../../src/providers/openai.js'
import type {ChatMessage, ProviderSettings} from '../../src/providers/provider.js'
import {drainStream, eventually, FakeOpenAIServer, providerConformanceSuite} from '../../src/testing/index.js'

/** Not a real key; tests check that it reaches the server and never a message. */
const KEY = 'sk-test-4f2a9c1e7b3d'
const model = 'gpt-fake-mini'
const ask: ChatMessage[] = [{content: 'Say hello.', role: 'user'}]

function settings(overrides: Partial<ProviderSettings> = {}): ProviderSettings {
  return {apiKey: KEY, extra: {}, maxRetries: 0, ...overrides}
}

providerConformanceSuite({descriptor: openaiProvider, startServer: () => FakeOpenAIServer.start()})

describe('openai provider', () => {
  let server: FakeOpenAIServer

  beforeEach(async () => {
    server = await FakeOpenAIServer.start()
  })

  afterEach(async () => {
    await server.close()
  })

  describe('the request', () => {
    it('posts a streaming chat completion that asks for usage, with the key as a bearer token', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])

      const outcome = await drainStream(provider, ask, {model})

      expect(outcome.error).to.equal(undefined)
      expect(server.requests).to.have.length(1)
      const [request] = server.requests
      expect({method: request.method, path: request.path}).to.deep.equal({method: 'POST', path: '/v1/chat/completions'})
      expect(request.headers.authorization).to.equal(`Bearer ${KEY}`)
      expect(request.body).to.deep.equal({
        messages: [{content: 'Say hello.', role: 'user'}],
        model,
        stream: true,
        stream_options: {include_usage: true},
      })
    })

    it('sends max tokens as max_tokens to a compatible server', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])

      await drainStream(provider, ask, {maxTokens: 32, model, temperature: 0})

      const body = server.requests[0].body as Record<string, unknown>
      expect({max_completion_tokens: body.max_completion_tokens, max_tokens: body.max_tokens, temperature: body.temperature}).to.deep.equal({
        max_completion_tokens: undefined,
        max_tokens: 32,
        temperature: 0,
      })
    })

    it('sends max tokens as max_completion_tokens when the config says so', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url, extra: {max_tokens_field: 'max_completion_tokens'}}))
      server.reply(['Hi'])

      await drainStream(provider, ask, {maxTokens: 32, model})

      const body = server.requests[0].body as Record<string, unknown>
      expect({max_completion_tokens: body.max_completion_tokens, max_tokens: body.max_tokens}).to.deep.equal({
        max_completion_tokens: 32,
        max_tokens: undefined,
      })
    })

    it('rejects an unknown max_tokens_field before any request', () => {
      expect(() => createProvider(openaiProvider, settings({baseUrl: server.url, extra: {max_tokens_field: 'tokens'}})))
        .to.throw(SynapseError, 'providers.openai.max_tokens_field must be "max_completion_tokens" or "max_tokens", not "tokens".')
        .with.property('code', 'CONFIG_INVALID')
    })

    it('sends tool output as a user message that says what it is', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url}))
      server.reply(['Noted.'])

      await drainStream(provider, [{content: '42', role: 'tool'}], {model})

      expect((server.requests[0].body as {messages: unknown}).messages).to.deep.equal([{content: 'Tool output:\n42', role: 'user'}])
    })

    it('sends the organization and project from the extra settings as OpenAI headers', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url, extra: {organization: 'org-fake', project: 'proj-fake'}}))
      server.reply(['Hi'])

      await drainStream(provider, ask, {model})

      const {headers} = server.requests[0]
      expect({organization: headers['openai-organization'], project: headers['openai-project']}).to.deep.equal({
        organization: 'org-fake',
        project: 'proj-fake',
      })
    })
  })

  describe('the done event', () => {
    it('carries the completion id and the raw usage', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url}))
      server.reply(['Hi', '!'], {usage: {inputTokens: 5, outputTokens: 2}})

      const outcome = await drainStream(provider, ask, {model})

      expect(outcome.done).to.deep.equal([
        {
          finishReason: 'stop',
          model,
          raw: {id: 'chatcmpl-fake-1', usage: {completion_tokens: 2, prompt_tokens: 5, total_tokens: 7}},
          type: 'done',
          usage: {inputTokens: 5, outputTokens: 2},
        },
      ])
    })
  })

  describe('the API key', () => {
    // The shared wording is the conformance suite's; what is openai's own is the key page and that a
    // local server needs none.
    it('is required for api.openai.com: MISSING_API_KEY naming where to create one and the way around it', () => {
      let thrown: unknown
      try {
        createProvider(openaiProvider, settings({apiKey: undefined}))
      } catch (error) {
        thrown = error
      }

      expect(thrown).to.be.instanceOf(SynapseError)
      const error = thrown as SynapseError
      expect(error.toJSON()).to.deep.equal({
        code: 'MISSING_API_KEY',
        exitCode: 1,
        message: 'The openai provider needs an API key: set OPENAI_API_KEY, run "synapse keys set openai" or set providers.openai.api_key in the config.',
        suggestions: [
          'Create a key at https://platform.openai.com/api-keys.',
          'For a server that needs no key, set OPENAI_BASE_URL or providers.openai.base_url instead.',
        ],
      })
      expect(server.requests).to.have.length(0)
    })

    it('is required when the base URL is api.openai.com itself, and an empty key counts as none', () => {
      expect(() => createProvider(openaiProvider, settings({apiKey: '', baseUrl: `${OPENAI_BASE_URL}/`})))
        .to.throw(SynapseError)
        .with.property('code', 'MISSING_API_KEY')
    })

    it('is optional with a custom base URL: a placeholder is sent and the reply streams', async () => {
      const provider = createProvider(openaiProvider, settings({apiKey: undefined, baseUrl: server.url}))
      server.reply(['Local', ' hello'])

      const outcome = await drainStream(provider, ask, {model})

      expect(outcome.error).to.equal(undefined)
      expect(outcome.deltas.join('')).to.equal('Local hello')
      expect(server.requests[0].headers.authorization).to.equal('Bearer synapse-no-key')
    })

    it('does not show when the provider is inspected or serialised', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])
      await drainStream(provider, ask, {model})

      expect(inspect(provider, {depth: 10})).to.not.include(KEY)
      expect(JSON.stringify(provider)).to.equal('{"defaultModel":"gpt-5.4-mini","name":"openai"}')
    })

    it('is not read from the environment behind the CLI’s back', async () => {
      const saved = {key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL}
      process.env.OPENAI_API_KEY = 'sk-from-env'
      process.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/v1'
      try {
        const provider = createProvider(openaiProvider, settings({baseUrl: server.url}))
        server.reply(['Hi'])

        const outcome = await drainStream(provider, ask, {model})

        expect(outcome.error).to.equal(undefined)
        expect(server.requests[0].headers.authorization).to.equal(`Bearer ${KEY}`)
      } finally {
        restoreEnv('OPENAI_API_KEY', saved.key)
        restoreEnv('OPENAI_BASE_URL', saved.url)
      }
    })
  })

  describe('error messages', () => {
    async function failWith(status: number, message: string, overrides: Partial<ProviderSettings> = {}, code?: string) {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url, ...overrides}))
      server.setDefault({code, headers: {'retry-after-ms': '0'}, message, status, type: 'error'})
      const outcome = await drainStream(provider, ask, {model})
      expect(outcome.error).to.be.instanceOf(SynapseError)
      return (outcome.error as SynapseError).toJSON()
    }

    it('403 without a configured key: says that the server wants one', async () => {
      const error = await failWith(403, 'Forbidden', {apiKey: undefined})

      expect(error).to.deep.equal({
        code: 'PROVIDER_AUTH',
        exitCode: 1,
        message: 'The openai provider rejected the API key (403): Forbidden',
        suggestions: [
          `No API key is set and the server at ${server.url} wants one: set OPENAI_API_KEY, run "synapse keys set openai" or set providers.openai.api_key in the config.`,
        ],
      })
    })

    it('404: names the model and where to look for others', async () => {
      const error = await failWith(404, 'The model `gpt-fake-mini` does not exist or you do not have access to it.', {}, 'model_not_found')

      expect(error).to.deep.equal({
        code: 'PROVIDER_NOT_FOUND',
        exitCode: 1,
        message: 'The openai provider does not know the model "gpt-fake-mini" (404): The model `gpt-fake-mini` does not exist or you do not have access to it.',
        suggestions: [
          'Choose another model with --model.',
          `See which models the server offers: GET ${server.url}/models.`,
          `Check the base URL ${server.url}: OpenAI-compatible servers usually serve under /v1.`,
        ],
      })
    })

    it('429 for an exhausted quota: points at billing rather than waiting', async () => {
      const error = await failWith(429, 'You exceeded your current quota.', {}, 'insufficient_quota')

      expect(error.suggestions).to.deep.equal(['The account is out of quota: check its plan and billing.'])
      expect(error.message).to.equal('The openai provider rate-limited the request (429): You exceeded your current quota.')
    })

    // The suite checks the wording; this checks that OPENAI_BASE_URL is named beside the config key.
    it('a refused connection: names the base URL and both places it is set', async () => {
      const provider = createProvider(openaiProvider, settings({baseUrl: server.url}))
      await server.close()

      const outcome = await drainStream(provider, ask, {model})

      expect((outcome.error as SynapseError).toJSON()).to.deep.equal({
        code: 'PROVIDER_ERROR',
        exitCode: 1,
        message: `Could not connect to the openai provider at ${server.url} (ECONNREFUSED).`,
        suggestions: [`Check that the server is running and reachable at ${server.url}.`, 'Check OPENAI_BASE_URL or providers.openai.base_url in the config.'],
      })
    })
  })
})

describe('FakeOpenAIServer through the openai SDK', () => {
  let server: FakeOpenAIServer
  let client: OpenAI

  beforeEach(async () => {
    server = await FakeOpenAIServer.start({models: ['fake-a', 'fake-b']})
    client = new OpenAI({apiKey: KEY, baseURL: server.url, maxRetries: 0})
  })

  afterEach(async () => {
    await server.close()
  })

  it('answers a non-streaming chat completion', async () => {
    server.reply(['Hello', ' there'], {finishReason: 'length', usage: {inputTokens: 9, outputTokens: 2}})

    const completion = await client.chat.completions.create({messages: [{content: 'Hi', role: 'user'}], model: 'fake-a'})

    expect(completion).to.deep.include({id: 'chatcmpl-fake-1', model: 'fake-a', object: 'chat.completion'})
    expect(completion.choices.map(choice => [choice.message.content, choice.finish_reason])).to.deep.equal([['Hello there', 'length']])
    expect(completion.usage).to.deep.equal({completion_tokens: 2, prompt_tokens: 9, total_tokens: 11})
    expect(server.requests[0].chat).to.deep.equal({messages: [{content: 'Hi', role: 'user'}], model: 'fake-a', stream: false})
  })

  it('streams chunks without a usage chunk unless asked for one', async () => {
    server.reply(['x', 'y'])

    const stream = await client.chat.completions.create({messages: [{content: 'Hi', role: 'user'}], model: 'fake-a', stream: true})
    const chunks = []
    for await (const chunk of stream) chunks.push({choices: chunk.choices.map(choice => [choice.delta, choice.finish_reason]), usage: chunk.usage})

    expect(chunks).to.deep.equal([
      {choices: [[{content: '', role: 'assistant'}, null]], usage: undefined},
      {choices: [[{content: 'x'}, null]], usage: undefined},
      {choices: [[{content: 'y'}, null]], usage: undefined},
      {choices: [[{}, 'stop']], usage: undefined},
    ])
  })

  it('lists its models', async () => {
    const ids: string[] = []
    for await (const listed of client.models.list()) ids.push(listed.id)

    expect(ids).to.deep.equal(['fake-a', 'fake-b'])
    expect(server.requests.map(request => `${request.method} ${request.path}`)).to.deep.equal(['GET /v1/models'])
  })

  it('answers unknown paths with an OpenAI-shaped 404', async () => {
    const response = await fetch(`${server.origin}/v1/nowhere`, {method: 'POST'})

    expect(response.status).to.equal(404)
    expect(await response.json()).to.deep.equal({
      error: {code: null, message: 'Invalid URL (POST /v1/nowhere)', param: null, type: 'invalid_request_error'},
    })
  })

  it('uses queued responses in order, then the default', async () => {
    server.enqueue({chunks: ['first'], type: 'reply'}, {message: 'nope', status: 400, type: 'error'})
    const ask = () => client.chat.completions.create({messages: [{content: 'Hi', role: 'user'}], model: 'fake-a'})

    const first = await ask()
    const second = await ask().catch((error: unknown) => error)
    const third = await ask()

    expect(first.choices[0].message.content).to.equal('first')
    expect(second).to.be.instanceOf(OpenAI.BadRequestError).and.to.have.property('message', '400 nope')
    expect(third.choices[0].message.content).to.equal('Hello from the fake.')
  })

  it('closes stalled connections on close()', async () => {
    server.setDefault({type: 'no-response'})
    const pending = client.chat.completions.create({messages: [{content: 'Hi', role: 'user'}], model: 'fake-a'}).catch((error: unknown) => error)
    await eventually(() => server.requests.length === 1, 'the server holds the request')

    await server.close()

    expect(await pending).to.be.instanceOf(OpenAI.APIConnectionError)
    expect(server.requests.map(request => request.clientClosedEarly)).to.deep.equal([false])
  })
})

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}
