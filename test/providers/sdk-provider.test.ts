import {expect} from 'chai'
import type OpenAI from 'openai'

import {SynapseError} from '../../src/core/errors.js'
import {openaiProvider} from '../../src/providers/openai.js'
import type {ChatMessage, StreamEvent, StreamOptions} from '../../src/providers/provider.js'
import {SdkProvider} from '../../src/providers/sdk-provider.js'
import {streamReply} from '../../src/providers/support.js'
import {drainStream, FakeOpenAIServer} from '../../src/testing/index.js'

/** The smallest provider over an SDK, as a plugin author writes one, with the default base URL the test chooses. */
class MinimalProvider extends SdkProvider<OpenAI> {
  clientsMade = 0

  constructor(defaultBaseUrl: string, baseUrl?: string) {
    super(openaiProvider, {apiKey: 'sk-test-minimal', baseUrl, extra: {}, maxRetries: 0}, defaultBaseUrl)
  }

  async *stream(messages: ChatMessage[], options: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    const make = (sdk: typeof import('openai'), common: ConstructorParameters<typeof OpenAI>[0]) => {
      this.clientsMade++
      return new sdk.OpenAI({...common, apiKey: 'sk-test-minimal'})
    }
    const {client, errors} = await this.connect(() => import('openai'), make, options, {elsewhere: 'Look elsewhere.', unknownModel: ['Ask the server.']})
    const body = {messages: messages.map(m => ({content: m.content, role: 'user' as const})), model: options.model, stream: true as const}
    yield* streamReply(
      errors,
      signal => client.chat.completions.create(body, {signal}).withResponse(),
      chunk => ({text: chunk.choices[0]?.delta?.content ?? undefined}),
    )
  }
}

describe('SdkProvider', () => {
  let server: FakeOpenAIServer

  beforeEach(async () => {
    server = await FakeOpenAIServer.start()
    server.setDefault({code: 'model_not_found', message: 'No such model.', status: 404, type: 'error'})
  })

  afterEach(async () => {
    await server.close()
  })

  const suggestionsFor = async (provider: MinimalProvider) => {
    const {error} = await drainStream(provider, [{content: 'Hi', role: 'user'}], {model: 'm'})
    expect(error).to.be.instanceOf(SynapseError)
    return (error as SynapseError).suggestions
  }

  it('adds the advice for another server only when the base URL is not the default one', async () => {
    // The default written with a trailing slash still is the default.
    expect(await suggestionsFor(new MinimalProvider(`${server.url}/`))).to.deep.equal(['Choose another model with --model.', 'Ask the server.'])
    expect(await suggestionsFor(new MinimalProvider('https://api.example.invalid/v1', server.url))).to.deep.equal([
      'Choose another model with --model.',
      'Ask the server.',
      'Look elsewhere.',
    ])
  })

  it('makes the SDK client once and reuses it for every request', async () => {
    const provider = new MinimalProvider(server.url)
    await suggestionsFor(provider)
    await suggestionsFor(provider)
    expect(provider.clientsMade).to.equal(1)
    expect(server.requests.length).to.equal(2)
  })
})
