import {expect} from 'chai'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {SynapseError} from '../../src/core/errors.js'
import {createProvider} from '../../src/providers/create.js'
import type {Provider, ProviderDescriptor, StreamEvent} from '../../src/providers/provider.js'
import {ProviderErrorTranslator, streamLimits} from '../../src/providers/support.js'
import {drainStream} from '../../src/testing/index.js'

const KEY = 'sk-create-test-1b2c3d4e5f6a'

/** A descriptor whose provider runs `stream`, counting the calls of `create` and `stream`. */
function descriptorOf(stream: Provider['stream'], fields: Partial<ProviderDescriptor> = {}) {
  const calls = {create: 0, stream: 0}
  const descriptor: ProviderDescriptor = {
    create: () => {
      calls.create += 1
      return {
        defaultModel: 'm',
        name: 'plain',
        stream(messages, options) {
          calls.stream += 1
          return stream(messages, options)
        },
      }
    },
    defaultModel: 'm',
    description: 'a provider for these tests',
    name: 'plain',
    ...fields,
  }
  return {calls, descriptor}
}

describe('createProvider', () => {
  it('asks for no key when the descriptor names no key variable', async () => {
    const {calls, descriptor} = descriptorOf(async function* () {
      yield {finishReason: 'stop', model: 'm', type: 'done', usage: {inputTokens: null, outputTokens: null}} satisfies StreamEvent
    })

    const outcome = await drainStream(createProvider(descriptor, {extra: {}}), [], {model: 'm'})

    expect(outcome.error).to.equal(undefined)
    expect(calls).to.deep.equal({create: 1, stream: 1})
  })

  it('names "synapse keys set" and the config key when the descriptor names no variable but needs a key', () => {
    const {calls, descriptor} = descriptorOf(async function* () {}, {needsApiKey: () => true})

    expect(() => createProvider(descriptor, {extra: {}}))
      .to.throw(SynapseError, 'The plain provider needs an API key: run "synapse keys set plain" or set providers.plain.api_key in the config.')
      .with.property('code', 'MISSING_API_KEY')
    expect(calls.create).to.equal(0)
  })

  it('says INTERRUPTED for a signal aborted before the call, without running the provider', async () => {
    const {calls, descriptor} = descriptorOf(async function* () {})
    const controller = new AbortController()
    controller.abort()

    const outcome = await drainStream(createProvider(descriptor, {extra: {}}), [], {model: 'm', signal: controller.signal})

    expect((outcome.error as SynapseError).toJSON()).to.deep.equal({
      code: 'INTERRUPTED',
      exitCode: 130,
      message: 'The plain request was interrupted.',
      suggestions: [],
    })
    expect(calls.stream).to.equal(0)
  })

  it('lets no raw error through: one PROVIDER_ERROR line, the key masked, after what was yielded', async () => {
    const {descriptor} = descriptorOf(async function* () {
      yield {text: 'half', type: 'delta'} satisfies StreamEvent
      throw new Error(`socket said:\n${KEY} is not welcome`)
    })

    const outcome = await drainStream(createProvider(descriptor, {apiKey: KEY, extra: {}}), [], {model: 'm'})

    expect(outcome.deltas).to.deep.equal(['half'])
    expect(outcome.error).to.be.instanceOf(SynapseError)
    expect((outcome.error as SynapseError).toJSON()).to.deep.equal({
      code: 'PROVIDER_ERROR',
      exitCode: 1,
      message: 'The plain request failed: socket said: [redacted] is not welcome',
      suggestions: [],
    })
  })
})

describe('ProviderErrorTranslator without an SDK', () => {
  it("reads fetch's own refused connection as one, naming the server", async () => {
    const server = createServer()
    await new Promise<void>(resolve => {
      server.listen(0, '127.0.0.1', resolve)
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await new Promise(resolve => {
      server.close(resolve)
    })
    const thrown = await fetch(url).catch((error: unknown) => error)
    const errors = new ProviderErrorTranslator({
      baseUrl: url,
      descriptor: {name: 'plain'},
      keyConfigured: false,
      limits: streamLimits('plain', {}),
      maxRetries: 0,
      model: 'm',
      read: () => undefined,
      sentKey: '',
      signal: undefined,
    })

    expect(errors.translate(thrown, 'request').toJSON()).to.deep.equal({
      code: 'PROVIDER_ERROR',
      exitCode: 1,
      message: `Could not connect to the plain provider at ${url} (ECONNREFUSED).`,
      suggestions: [`Check that the server is running and reachable at ${url}.`, 'Check providers.plain.base_url in the config.'],
    })
  })
})
