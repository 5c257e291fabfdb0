/**
 * What a provider over an HTTP SDK sets up from its settings, written once: the checked time limits,
 * the endpoint, the key, the options every SDK client gets, and the error translator of a request.
 * The built-in `openai` provider and the `anthropic` plugin extend it; a subclass writes its request
 * body, its SDK call and the reading of its SDK's events and errors.
 */
import {checkSpec, expectedOf} from '../config/values.js'
import {SynapseError} from '../core/errors.js'
import type {ChatMessage, Provider, ProviderDescriptor, ProviderSettings, StreamEvent, StreamOptions} from './provider.js'
import {
  displayUrl,
  type ProviderAdvice,
  ProviderErrorTranslator,
  readStainlessError,
  type StainlessErrors,
  type StreamLimits,
  sdkTimeout,
  streamLimits,
} from './support.js'

/** What only one provider says about a failed request; `elsewhere` is added when the base URL is not the default one. */
export interface SdkAdvice extends ProviderAdvice {
  /** A hint about a base URL set to another server, e.g. where that server usually serves the API. */
  elsewhere?: string
}

/** The client options every SDK gets here, in the names the Stainless-generated SDKs use. */
export interface SdkClientOptions {
  baseURL: string
  /**
   * The SDK would print its own lines (a malformed event's raw text among them) to stderr; every
   * failure reaches the user as one translated error instead.
   */
  logLevel: 'off'
  /** Absent: the SDK's own default. */
  maxRetries?: number
  /** A backstop behind guardStream's timer (see `sdkTimeout`). */
  timeout: number
}

export abstract class SdkProvider<Client extends {maxRetries: number}> implements Provider {
  readonly defaultModel: string
  readonly name: string
  // True private fields: the key must not show up when a provider is logged, inspected or serialised.
  readonly #apiKey: string | undefined
  readonly #baseUrl: string
  #client?: Client
  readonly #defaultBaseUrl: string
  readonly #descriptor: ProviderDescriptor
  readonly #limits: StreamLimits
  readonly #settings: ProviderSettings

  /** Throws CONFIG_INVALID for time limits that are not positive whole numbers. */
  constructor(descriptor: ProviderDescriptor, settings: ProviderSettings, defaultBaseUrl: string) {
    this.defaultModel = descriptor.defaultModel
    this.name = descriptor.name
    this.#descriptor = descriptor
    this.#settings = settings
    this.#limits = streamLimits(descriptor.name, settings)
    this.#baseUrl = settings.baseUrl ?? defaultBaseUrl
    this.#defaultBaseUrl = defaultBaseUrl
    this.#apiKey = settings.apiKey === '' ? undefined : settings.apiKey
  }

  /**
   * A provider setting beyond the common ones (config `providers.<name>.<key>`), checked against the
   * descriptor's `options`: undefined when unset, CONFIG_INVALID naming the setting when it does not fit.
   */
  protected option<T extends boolean | number | string>(key: string): T | undefined {
    const value = this.#settings.extra[key]
    const spec = this.#descriptor.options?.[key]
    if (value === undefined || !spec) return undefined
    if (checkSpec(spec, value) === undefined) {
      throw new SynapseError('CONFIG_INVALID', `providers.${this.name}.${key} must be ${expectedOf(spec)}, not ${JSON.stringify(value)}.`)
    }
    return value as T
  }

  /** The configured key; undefined when there is none (core has refused that where a key is needed). */
  protected get apiKey(): string | undefined {
    return this.#apiKey
  }

  protected get baseUrl(): string {
    return this.#baseUrl
  }

  protected get extra(): ProviderSettings['extra'] {
    return this.#settings.extra
  }

  /**
   * What one request needs: the Stainless-generated SDK, which `load` imports (on the first request, so
   * a command that sends none never loads it); the client `make` builds from it once, with the options
   * every client gets; and the translator of this request's errors, which reads that SDK's error classes.
   * `load` runs on every request, so it should hand back one promise held at module level
   * (`sdk ??= import('…')`): import() of a loaded module still resolves through the loader each time.
   */
  protected async connect<Sdk extends StainlessErrors>(
    load: () => Promise<Sdk>,
    make: (sdk: Sdk, common: SdkClientOptions) => Client,
    options: StreamOptions,
    {elsewhere, ...advice}: SdkAdvice,
  ): Promise<{client: Client; errors: ProviderErrorTranslator}> {
    const sdk = await load()
    const {maxRetries} = this.#settings
    const common = {baseURL: this.#baseUrl, logLevel: 'off' as const, ...(maxRetries === undefined ? {} : {maxRetries}), timeout: sdkTimeout(this.#limits)}
    this.#client ??= make(sdk, common)
    const away = elsewhere !== undefined && displayUrl(this.#baseUrl) !== displayUrl(this.#defaultBaseUrl)
    const errors = new ProviderErrorTranslator({
      advice: away ? {...advice, unknownModel: [...(advice.unknownModel ?? []), elsewhere]} : advice,
      baseUrl: this.#baseUrl,
      descriptor: this.#descriptor,
      keyConfigured: this.#apiKey !== undefined,
      keySource: this.#settings.apiKeySource,
      limits: this.#limits,
      maxRetries: this.#client.maxRetries,
      model: options.model,
      read: error => readStainlessError(sdk, error),
      sentKey: this.#apiKey ?? '',
      signal: options.signal,
    })
    return {client: this.#client, errors}
  }

  abstract stream(messages: ChatMessage[], options: StreamOptions): AsyncIterable<StreamEvent>
}
