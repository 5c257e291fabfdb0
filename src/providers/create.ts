/**
 * How core turns a registered descriptor into a provider: the API key is checked here, from the
 * descriptor, before any of the provider's code runs, and the provider's stream is held to the
 * contract of `Provider.stream` on the points every provider would otherwise repeat.
 */
import {SynapseError} from '../core/errors.js'
import {apiKeyWays} from './api-keys.js'
import type {ChatMessage, Provider, ProviderDescriptor, ProviderSettings, StreamEvent, StreamOptions} from './provider.js'
import {baseUrlSetting, interruptedError} from './support.js'

/**
 * `descriptor.create(settings)`, after refusing a missing key with one MISSING_API_KEY error that
 * names the key's variable and `synapse keys set <name>`, as simonw/llm does.
 */
export function createProvider(descriptor: ProviderDescriptor, settings: ProviderSettings): Provider {
  if (needsApiKey(descriptor, settings) && !settings.apiKey) throw missingApiKeyError(descriptor)
  return new CheckedProvider(descriptor.create(settings), settings.apiKey ?? '')
}

/** Whether these settings need a key: the descriptor's answer, else whether it names a key variable at all. */
export function needsApiKey(descriptor: ProviderDescriptor, settings: ProviderSettings): boolean {
  return descriptor.needsApiKey ? descriptor.needsApiKey(settings) : descriptor.apiKeyEnv !== undefined
}

export function missingApiKeyError(descriptor: Pick<ProviderDescriptor, 'apiKeyEnv' | 'apiKeyUrl' | 'name' | 'needsApiKey'>): SynapseError {
  const {apiKeyUrl, name} = descriptor
  const suggestions = [
    ...(apiKeyUrl ? [`Create a key at ${apiKeyUrl}.`] : []),
    // A provider whose endpoint decides can also be pointed at a server that wants no key.
    ...(descriptor.needsApiKey ? [`For a server that needs no key, set ${baseUrlSetting(name)} instead.`] : []),
  ]
  return new SynapseError('MISSING_API_KEY', `The ${name} provider needs an API key: ${apiKeyWays(descriptor)}.`, {suggestions})
}

/**
 * A provider whose stream says INTERRUPTED for a signal aborted before the call, without running the
 * provider's code, and lets no SDK or fetch error through untranslated. It shows nothing but the two
 * fields of the port, so the key cannot leak through it either.
 */
class CheckedProvider implements Provider {
  readonly defaultModel: string
  readonly name: string
  readonly #inner: Provider
  readonly #key: string

  constructor(inner: Provider, key: string) {
    this.#inner = inner
    this.#key = key
    this.defaultModel = inner.defaultModel
    this.name = inner.name
  }

  async *stream(messages: ChatMessage[], options: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    if (options.signal?.aborted) throw interruptedError(this.name)
    try {
      yield* this.#inner.stream(messages, options)
    } catch (error) {
      if (error instanceof SynapseError) throw error
      if (options.signal?.aborted) throw interruptedError(this.name)
      let message = (error instanceof Error ? error.message : String(error)).replaceAll(/\s+/g, ' ').trim()
      if (this.#key !== '') message = message.replaceAll(this.#key, '[redacted]')
      throw new SynapseError('PROVIDER_ERROR', `The ${this.name} request failed: ${message.slice(0, 200)}`, {cause: error})
    }
  }
}
