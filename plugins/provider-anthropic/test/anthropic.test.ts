import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {inspect} from 'node:util'
import {type ChatMessage, createProvider, type ProviderSettings, SynapseError} from 'synapse-cli'
import {drainStream, providerConformanceSuite} from 'synapse-cli/testing'

import {anthropicProvider, DEFAULT_MAX_TOKENS} from '../src/anthropic.js'
import providers from '../src/hooks/providers.js'
import {FakeAnthropicServer} from './anthropic-server.js'

/** Not a real key; tests check that it reaches the server and never a message. */
const KEY = 'sk-ant-test-7c1e9a2f4b6d'
const model = 'claude-fake-5'
const ask: ChatMessage[] = [{content: 'Say hello.', role: 'user'}]
/** The SDK waits this long before a retry; without the header it backs off for half a second and more. */
const FAST_RETRY = {'retry-after-ms': '1'}
/** @anthropic-ai/sdk's backoff before its first retry when the server names none: 0.5 s less up to 25 % jitter. */
const SDK_FIRST_BACKOFF_MAX_MS = 500

function settings(overrides: Partial<ProviderSettings> = {}): ProviderSettings {
  return {apiKey: KEY, extra: {}, maxRetries: 0, ...overrides}
}

describe('anthropic', () => {
  // The Messages API refuses a request without max_tokens, so this provider always sends one.
  providerConformanceSuite({defaultMaxTokens: DEFAULT_MAX_TOKENS, descriptor: anthropicProvider, startServer: () => FakeAnthropicServer.start()})
})

describe('anthropic provider', () => {
  let server: FakeAnthropicServer

  beforeEach(async () => {
    server = await FakeAnthropicServer.start()
  })

  afterEach(async () => {
    await server.close()
  })

  describe('the request', () => {
    it('posts a streaming Messages request to /v1/messages', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])

      const outcome = await drainStream(provider, ask, {model})

      expect(outcome.error).to.equal(undefined)
      expect(server.requests).to.have.length(1)
      const [request] = server.requests
      expect({method: request.method, path: request.path}).to.deep.equal({method: 'POST', path: '/v1/messages'})
      expect(request.body).to.deep.equal({
        max_tokens: DEFAULT_MAX_TOKENS,
        messages: [{content: 'Say hello.', role: 'user'}],
        model,
        stream: true,
      })
    })

    // @anthropic-ai/sdk 1.x sends the key as a bearer token, not in x-api-key as 0.x did.
    it('sends the key as a bearer token and the API version the SDK speaks', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])

      await drainStream(provider, ask, {model})

      const {headers} = server.requests[0]
      expect({
        'anthropic-version': headers['anthropic-version'],
        authorization: headers.authorization,
        'x-api-key': headers['x-api-key'],
      }).to.deep.equal({'anthropic-version': '2026-10-21', authorization: `Bearer ${KEY}`, 'x-api-key': undefined})
    })

    it('puts the system prompt in the top-level system parameter, merging every system message, and none in messages', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Teal.'])

      await drainStream(
        provider,
        [
          {content: 'You are terse.', role: 'system'},
          {content: 'Name a colour.', role: 'user'},
          {content: 'Coral.', role: 'assistant'},
          {content: 'Answer in French from now on.', role: 'system'},
          {content: 'Another one?', role: 'user'},
        ],
        {model},
      )

      const body = server.requests[0].body as Record<string, unknown>
      expect({messages: body.messages, system: body.system}).to.deep.equal({
        messages: [
          {content: 'Name a colour.', role: 'user'},
          {content: 'Coral.', role: 'assistant'},
          {content: 'Another one?', role: 'user'},
        ],
        system: 'You are terse.\n\nAnswer in French from now on.',
      })
    })

    it('sends no system parameter when there is no system message', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])

      await drainStream(provider, ask, {model})

      expect(server.requests[0].body).to.not.have.property('system')
    })

    it('sends DEFAULT_MAX_TOKENS when no cap is given, and no temperature', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])

      await drainStream(provider, ask, {model})

      const body = server.requests[0].body as Record<string, unknown>
      expect(DEFAULT_MAX_TOKENS).to.equal(16_384)
      expect({max_tokens: body.max_tokens, temperature: body.temperature}).to.deep.equal({max_tokens: 16_384, temperature: undefined})
    })

    it('sends the max_tokens of the config when no cap is given, and the given cap over it', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url, extra: {max_tokens: 2048}}))
      server.reply(['Hi'])
      server.reply(['Hi'])

      await drainStream(provider, ask, {model})
      await drainStream(provider, ask, {maxTokens: 64, model})

      expect(server.requests.map(request => (request.body as {max_tokens: unknown}).max_tokens)).to.deep.equal([2048, 64])
    })

    it('rejects a max_tokens setting that is not a positive whole number before any request', () => {
      expect(() => createProvider(anthropicProvider, settings({baseUrl: server.url, extra: {max_tokens: 'lots'}})))
        .to.throw(SynapseError, 'providers.anthropic.max_tokens must be a whole number ≥ 1, not "lots".')
        .with.property('code', 'CONFIG_INVALID')
      expect(() => createProvider(anthropicProvider, settings({baseUrl: server.url, extra: {max_tokens: 0}})))
        .to.throw(SynapseError, 'providers.anthropic.max_tokens must be a whole number ≥ 1, not 0.')
        .with.property('code', 'CONFIG_INVALID')
      expect(server.requests).to.have.length(0)
    })

    it('forwards temperature as given, zero included', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])

      await drainStream(provider, ask, {model, temperature: 0})

      expect((server.requests[0].body as Record<string, unknown>).temperature).to.equal(0)
    })

    it('sends tool output as a user message that says what it is', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Noted.'])

      await drainStream(provider, [{content: '42', role: 'tool'}], {model})

      expect((server.requests[0].body as {messages: unknown}).messages).to.deep.equal([{content: 'Tool output:\n42', role: 'user'}])
    })
  })

  describe('the done event', () => {
    it('takes input tokens from message_start and output tokens from message_delta, and carries the message id and usage', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      // message_start reports output_tokens 1 (what the fake, like the API, counts before any text); 5 is the total.
      server.reply(['Hi', ' there', '!'], {usage: {inputTokens: 12, outputTokens: 5}})

      const outcome = await drainStream(provider, ask, {model})

      expect(outcome.error).to.equal(undefined)
      expect(outcome.done).to.deep.equal([
        {
          finishReason: 'end_turn',
          model,
          raw: {
            id: 'msg_fake_1',
            usage: {cache_creation_input_tokens: 0, cache_read_input_tokens: 0, input_tokens: 12, output_tokens: 5, service_tier: 'standard'},
          },
          type: 'done',
          usage: {cachedInputTokens: 0, inputTokens: 12, outputTokens: 5},
        },
      ])
    })

    it('prefers the cumulative input tokens of message_delta when the server reports them there', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.enqueue({chunks: ['Hi'], deltaInputTokens: 30, type: 'reply', usage: {inputTokens: 12, outputTokens: 1}})

      const outcome = await drainStream(provider, ask, {model})

      expect(outcome.done.map(done => done.usage)).to.deep.equal([{cachedInputTokens: 0, inputTokens: 30, outputTokens: 1}])
    })

    it('reports the stop reason in the API’s own words', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Once upon'], {finishReason: 'max_tokens'})

      const outcome = await drainStream(provider, ask, {maxTokens: 2, model})

      expect(outcome.done.map(done => done.finishReason)).to.deep.equal(['max_tokens'])
    })
  })

  describe('the API key', () => {
    // The shared wording, and that an empty key counts as none, are the conformance suite's; the key page is this provider's.
    it('is required: MISSING_API_KEY naming the variable, "synapse keys set" and where to create a key, before any request', () => {
      let thrown: unknown
      try {
        createProvider(anthropicProvider, settings({apiKey: undefined, baseUrl: server.url}))
      } catch (error) {
        thrown = error
      }

      expect(thrown).to.be.instanceOf(SynapseError)
      expect((thrown as SynapseError).toJSON()).to.deep.equal({
        code: 'MISSING_API_KEY',
        exitCode: 1,
        message:
          'The anthropic provider needs an API key: set ANTHROPIC_API_KEY, run "synapse keys set anthropic" or set providers.anthropic.api_key in the config.',
        suggestions: ['Create a key at https://console.anthropic.com/settings/keys.'],
      })
      expect(server.requests).to.have.length(0)
    })

    it('does not show when the provider is inspected or serialised', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.reply(['Hi'])
      await drainStream(provider, ask, {model})

      expect(inspect(provider, {depth: 10})).to.not.include(KEY)
      expect(JSON.stringify(provider)).to.equal('{"defaultModel":"claude-sonnet-5-5","name":"anthropic"}')
    })

    it('is not read from the environment behind the CLI’s back, nor is the base URL', async () => {
      const names = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL'] as const
      const saved = names.map(name => process.env[name])
      process.env.ANTHROPIC_API_KEY = 'sk-ant-from-env'
      process.env.ANTHROPIC_AUTH_TOKEN = 'token-from-env'
      process.env.ANTHROPIC_BASE_URL = 'http://127.0.0.1:9'
      try {
        const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
        server.reply(['Hi'])

        const outcome = await drainStream(provider, ask, {model})

        expect(outcome.error).to.equal(undefined)
        expect(server.requests[0].headers.authorization).to.equal(`Bearer ${KEY}`)
      } finally {
        for (const [index, name] of names.entries()) restoreEnv(name, saved[index])
      }
    })
  })

  describe('error messages', () => {
    async function failWith(status: number, message: string, overrides: Partial<ProviderSettings> = {}, errorType?: string) {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url, ...overrides}))
      server.setDefault({errorType, headers: FAST_RETRY, message, status, type: 'error'})
      const outcome = await drainStream(provider, ask, {model})
      expect(outcome.events).to.deep.equal([])
      expect(outcome.error).to.be.instanceOf(SynapseError)
      return (outcome.error as SynapseError).toJSON()
    }

    it('404: PROVIDER_NOT_FOUND naming the model, and the base URL to check', async () => {
      const error = await failWith(404, `model: ${model}`)

      expect(error).to.deep.equal({
        code: 'PROVIDER_NOT_FOUND',
        exitCode: 1,
        message: `The anthropic provider does not know the model "${model}" (404): model: ${model}`,
        suggestions: [
          'Choose another model with --model.',
          'See the current model names at https://platform.claude.com/docs/en/about-claude/models/overview.',
          `Check the base URL ${server.url}: the SDK adds /v1/messages to it itself.`,
        ],
      })
    })

    it('429: rate-limited after the retries, retried as configured and as retry-after says', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url, maxRetries: 2}))
      const rateLimited = {message: 'Number of request tokens has exceeded your per-minute rate limit.', status: 429, type: 'error'} as const
      server.enqueue({...rateLimited, headers: {'retry-after': '1'}})
      server.setDefault({...rateLimited, headers: {'retry-after': '0.001'}})

      const outcome = await drainStream(provider, ask, {model})

      expect((outcome.error as SynapseError).toJSON()).to.deep.equal({
        code: 'PROVIDER_ERROR',
        exitCode: 1,
        message: 'The anthropic provider rate-limited the request (429) after 2 retries: Number of request tokens has exceeded your per-minute rate limit.',
        suggestions: ['Wait a little, then try again.'],
      })
      expect(server.requests).to.have.length(3)
      // As the server saw it: the first retry came back no sooner than the 1 s its retry-after said,
      // which the SDK's own first backoff (at most 0.5 s) never reaches.
      const [first, second] = server.requests.map(request => request.receivedAt)
      expect(second - first).to.be.above(SDK_FIRST_BACKOFF_MAX_MS)
    })

    it('529 overloaded_error: PROVIDER_ERROR after the retries', async () => {
      const error = await failWith(529, 'Overloaded', {maxRetries: 2}, 'overloaded_error')

      expect(error).to.deep.equal({
        code: 'PROVIDER_ERROR',
        exitCode: 1,
        message: 'The anthropic provider is overloaded (529) after 2 retries: Overloaded',
        suggestions: ['Try again in a little while, or choose another model with --model.'],
      })
      expect(server.requests).to.have.length(3)
      expect((server.requests[0].body as {model: string}).model).to.equal(model)
    })

    it('an overload in the middle of a stream: PROVIDER_ERROR after the deltas already yielded', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.enqueue({
        chunks: ['Half', ' a reply', ' never sent'],
        streamError: {afterChunks: 2, errorType: 'overloaded_error', message: 'Overloaded'},
        type: 'reply',
      })

      const outcome = await drainStream(provider, ask, {model})

      expect(outcome.events).to.deep.equal([
        {text: 'Half', type: 'delta'},
        {text: ' a reply', type: 'delta'},
      ])
      expect((outcome.error as SynapseError).toJSON()).to.deep.equal({
        code: 'PROVIDER_ERROR',
        exitCode: 1,
        message: 'The anthropic provider became overloaded in the middle of its reply: Overloaded',
        suggestions: ['Try again.'],
      })
    })

    it('400 for a sampling parameter: quotes the server and says to leave out --temperature', async () => {
      const provider = createProvider(anthropicProvider, settings({baseUrl: server.url}))
      server.fail(400, 'temperature: Extra inputs are not permitted')

      const outcome = await drainStream(provider, ask, {model, temperature: 0.2})

      expect((outcome.error as SynapseError).toJSON()).to.deep.equal({
        code: 'PROVIDER_ERROR',
        exitCode: 1,
        message: 'The anthropic provider refused the request (400): temperature: Extra inputs are not permitted',
        suggestions: ['API version 2026-10-21, which this provider speaks, takes no sampling parameters: leave out --temperature.'],
      })
      expect((server.requests[0].body as Record<string, unknown>).temperature).to.equal(0.2)
    })
  })
})

describe('the synapse:providers hook', () => {
  it('returns the anthropic descriptor', async () => {
    const descriptors = await providers()

    expect(descriptors).to.deep.equal([anthropicProvider])
    expect(descriptors.map(descriptor => [descriptor.name, descriptor.apiKeyEnv, descriptor.defaultModel])).to.deep.equal([
      ['anthropic', 'ANTHROPIC_API_KEY', 'claude-sonnet-5-5'],
    ])
  })

  it('does not load the SDK, in a fresh process', () => {
    // A resolve hook records every module specifier the hook module pulls in.
    const probe = `
      import {registerHooks} from 'node:module'
      const seen = []
      registerHooks({resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context) }})
      const hook = await import(process.argv[1])
      const names = (await hook.default()).map(descriptor => descriptor.name)
      console.log(JSON.stringify({names, sdk: seen.filter(specifier => specifier.startsWith('@anthropic-ai/'))}))
    `
    const hookPath = fileURLToPath(new URL('../src/hooks/providers.ts', import.meta.url))
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', probe, hookPath], {encoding: 'utf8'})

    expect(child.stderr).to.equal('')
    expect(JSON.parse(child.stdout)).to.deep.equal({names: ['anthropic'], sdk: []})
  })
})

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}
