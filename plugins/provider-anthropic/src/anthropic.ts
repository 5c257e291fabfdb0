/**
 * The `anthropic` provider: Claude through the Messages API with streaming, on the official
 * `@anthropic-ai/sdk` (1.x, which speaks API version 2026-10-21).
 *
 * The SDK costs about 260 ms to import, so it is loaded on the first `stream()` call: registering the
 * provider, listing it or creating it (which the CLI does for every chat command) stays cheap.
 */
import type Anthropic from '@anthropic-ai/sdk'
import {ProviderErrorTranslator, SynapseError, displayUrl, guardStream, interruptedError, sdkTimeout, streamLimits, withDetail} from 'synapse-cli'
import type {ChatMessage, ChatRole, Provider, ProviderDescriptor, ProviderErrorContext, ProviderSettings, StreamEvent, StreamLimits, StreamOptions, TransportFailure, Usage} from 'synapse-cli'

type AnthropicModule = typeof import('@anthropic-ai/sdk')
type RequestBody = Anthropic.MessageCreateParamsStreaming & {temperature?: number}
/** A message that goes into `messages`; system prompts go into the top-level `system` parameter. */
type Turn = ChatMessage & {role: Exclude<ChatRole, 'system'>}

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com'
/**
 * The API requires `max_tokens`. Thinking tokens count against it, and the current models think by
 * default, so a cap in the low thousands would cut ordinary answers short.
 */
export const DEFAULT_MAX_TOKENS = 16_384
const API_KEY_ENV = 'ANTHROPIC_API_KEY'
const API_KEY_CONFIG = 'providers.anthropic.api_key'
const BASE_URL_CONFIG = 'providers.anthropic.base_url'
const MAX_TOKENS_CONFIG = 'providers.anthropic.max_tokens'

export const anthropicProvider: ProviderDescriptor = {
  apiKeyEnv: API_KEY_ENV,
  /** Throws 'MISSING_API_KEY' here, before any network I/O, when no key is set. */
  create: settings => new AnthropicProvider(settings),
  defaultModel: 'claude-sonnet-5-5',
  description: 'Anthropic Claude models through the Messages API (or a compatible proxy through base_url)',
  models: ['claude-sonnet-5-5', 'claude-opus-5-5', 'claude-haiku-5-5', 'claude-fable-5-2', 'claude-sonnet-5', 'claude-opus-5', 'claude-haiku-4-5'],
  name: 'anthropic',
  options: {
    max_tokens: {description: `The output cap sent when none is given (the API requires one; default ${DEFAULT_MAX_TOKENS})`, min: 1, type: 'integer'},
  },
}

let sdk: Promise<AnthropicModule> | undefined

/**
 * Settings beyond the common ones, read from `ProviderSettings.extra` (config `providers.anthropic.<key>`):
 * - `max_tokens`: the output cap sent when the caller gives none (the API requires one); default
 *   DEFAULT_MAX_TOKENS.
 *
 * The SDK's own environment variables (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN,
 * credential profiles on disk) are deliberately not consulted: the key and base URL are always
 * passed explicitly, so what the CLI reports is what is used.
 */
export class AnthropicProvider implements Provider {
  readonly defaultModel = anthropicProvider.defaultModel
  readonly name = 'anthropic'
  // True private fields: the key must not show up when a provider is logged, inspected or serialised.
  readonly #apiKey: string
  readonly #baseUrl: string
  #client?: Anthropic
  readonly #defaultMaxTokens: number
  readonly #limits: StreamLimits
  readonly #settings: ProviderSettings

  constructor(settings: ProviderSettings) {
    this.#settings = settings
    this.#limits = streamLimits('anthropic', settings)
    this.#baseUrl = settings.baseUrl ?? ANTHROPIC_BASE_URL
    if (settings.apiKey === undefined || settings.apiKey === '') {
      throw new SynapseError('MISSING_API_KEY', `The anthropic provider needs an API key: set ${API_KEY_ENV} or ${API_KEY_CONFIG} in the config.`, {
        suggestions: [`export ${API_KEY_ENV}=sk-ant-... (create a key at https://console.anthropic.com/settings/keys)`],
      })
    }

    this.#apiKey = settings.apiKey

    const maxTokens = settings.extra.max_tokens
    if (maxTokens !== undefined && !(typeof maxTokens === 'number' && Number.isInteger(maxTokens) && maxTokens > 0)) {
      throw new SynapseError('CONFIG_INVALID', `${MAX_TOKENS_CONFIG} must be a positive whole number, not ${JSON.stringify(maxTokens)}.`)
    }

    this.#defaultMaxTokens = maxTokens ?? DEFAULT_MAX_TOKENS
  }

  async *stream(messages: ChatMessage[], options: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    const {signal} = options
    if (signal?.aborted) throw interruptedError('anthropic')

    const module = await (sdk ??= import('@anthropic-ai/sdk'))
    const client = this.#clientFrom(module)
    const errors = new ErrorTranslator(
      {
        baseUrlSetting: BASE_URL_CONFIG,
        maxRetries: client.maxRetries,
        provider: 'anthropic',
        sentKey: this.#apiKey,
        signal,
        limits: this.#limits,
        url: displayUrl(this.#baseUrl),
      },
      {model: options.model, module},
    )

    let finishReason: null | string = null
    let model = options.model
    let usage: Usage = {inputTokens: null, outputTokens: null}
    let rawUsage: Record<string, unknown> | undefined
    const raw: Record<string, unknown> = {}
    let replied = false

    for await (const event of guardStream(errors, requestSignal => client.messages.create(this.#body(messages, options), {signal: requestSignal}).withResponse())) {
      // The optional chaining below is on purpose: a proxy may leave out fields the SDK's types call required.
      switch (event.type) {
        case 'content_block_delta': {
          if (event.delta?.type === 'text_delta' && event.delta.text) {
            replied = true
            yield {text: event.delta.text, type: 'delta'}
          }

          break
        }

        case 'message_delta': {
          if (event.delta?.stop_reason) finishReason = event.delta.stop_reason
          if (event.delta?.stop_details) raw.stop_details = event.delta.stop_details
          // Cumulative whole-message counts, omitted when they do not apply: overwrite when present, never add.
          if (event.usage) {
            rawUsage = {...rawUsage, ...withoutNulls(event.usage)}
            usage = {
              inputTokens: typeof event.usage.input_tokens === 'number' ? event.usage.input_tokens : usage.inputTokens,
              outputTokens: typeof event.usage.output_tokens === 'number' ? event.usage.output_tokens : usage.outputTokens,
            }
          }

          break
        }

        case 'message_start': {
          const {message} = event
          if (message?.id) raw.id = message.id
          if (message?.model) model = message.model
          // output_tokens here counts only what was generated before the first event; message_delta has the total.
          if (message?.usage) {
            rawUsage = withoutNulls(message.usage)
            usage = {inputTokens: typeof message.usage.input_tokens === 'number' ? message.usage.input_tokens : null, outputTokens: null}
          }

          break
        }
        // content_block_start/stop, message_stop, thinking and tool blocks, and event types newer than this code carry no reply text.
      }
    }

    if (!replied && finishReason === null) throw errors.emptyStream()
    if (rawUsage) raw.usage = rawUsage
    yield Object.keys(raw).length > 0 ? {finishReason, model, raw, type: 'done', usage} : {finishReason, model, type: 'done', usage}
  }

  #body(messages: ChatMessage[], options: StreamOptions): RequestBody {
    // The Messages API takes the system prompt as a top-level parameter, not as a message.
    const system = messages.filter(message => message.role === 'system').map(message => message.content)
    const turns = messages.filter((message): message is Turn => message.role !== 'system')
    const body: RequestBody = {
      max_tokens: options.maxTokens ?? this.#defaultMaxTokens,
      messages: turns.map(turn => toAnthropicMessage(turn)),
      model: options.model,
      stream: true,
    }
    if (system.length > 0) body.system = system.join('\n\n')
    // Not in the SDK's types: API version 2026-10-21 dropped sampling parameters. Forwarded as the
    // port promises, for proxies that still take it; the API itself answers 400, which is reported.
    if (options.temperature !== undefined) body.temperature = options.temperature
    return body
  }

  #clientFrom(module: AnthropicModule): Anthropic {
    const {maxRetries} = this.#settings
    this.#client ??= new module.Anthropic({
      apiKey: this.#apiKey,
      baseURL: this.#baseUrl,
      ...(maxRetries === undefined ? {} : {maxRetries}),
      // The SDK would print its own lines (a malformed event's raw text among them) to stderr; every
      // failure reaches the user as one translated error instead.
      logLevel: 'off',
      timeout: sdkTimeout(this.#limits),
    })
    return this.#client
  }
}

/** What only the Anthropic SDK, or this provider, knows about a failure. */
interface AnthropicContext {
  model: string
  module: AnthropicModule
}

/** The Anthropic SDK's side of the translation: which of its errors is which, and what its error bodies say. */
class ErrorTranslator extends ProviderErrorTranslator {
  constructor(
    context: ProviderErrorContext,
    private readonly anthropic: AnthropicContext,
  ) {
    super(context)
  }

  protected fromServer(error: unknown): SynapseError | undefined {
    const {model, module} = this.anthropic
    const {url} = this.context
    if (!(error instanceof module.APIError)) return undefined
    const detail = this.detail(error)
    const {status} = error

    if (status === undefined) {
      // An SSE `error` event in a stream that had started fine, e.g. an overload mid-reply.
      const sentence = error.type === 'overloaded_error' ? 'The anthropic provider became overloaded in the middle of its reply' : 'The anthropic provider reported an error in the middle of its reply'
      return new SynapseError('PROVIDER_ERROR', withDetail(sentence, detail), {cause: error, suggestions: ['Try again.']})
    }

    if (status === 401 || status === 403) {
      return this.rejectedKey(status, detail, error, [`Check ${API_KEY_ENV} (or ${API_KEY_CONFIG} in the config): the key may be wrong, revoked, or lack access to this model.`])
    }

    if (status === 404) {
      const suggestions = ['Choose another model with --model.', 'See the current model names at https://platform.claude.com/docs/en/about-claude/models/overview.']
      if (url !== ANTHROPIC_BASE_URL) suggestions.push(`Check the base URL ${url}: the SDK adds /v1/messages to it itself.`)
      return this.unknownModel(model, detail, error, suggestions)
    }

    if (status === 429) return this.rateLimited(detail, error, 'Wait a little, then try again.')

    if (status === 529 || error.type === 'overloaded_error') {
      return new SynapseError('PROVIDER_ERROR', withDetail(`The anthropic provider is overloaded (${status})${this.retries()}`, detail), {
        cause: error,
        suggestions: ['Try again in a little while, or choose another model with --model.'],
      })
    }

    if (status >= 500) return this.failedWithStatus(status, detail, error)

    const suggestions =
      status === 400 && /\b(?:temperature|top_p|top_k)\b/.test(detail ?? '')
        ? ['API version 2026-10-21, which this provider speaks, takes no sampling parameters: leave out --temperature.']
        : []
    return this.refused(status, detail, error, suggestions)
  }

  protected transportFailure(error: unknown): TransportFailure | undefined {
    const {module} = this.anthropic
    // The timeout error is a connection error too, so it is asked about first.
    if (error instanceof module.APIUserAbortError) return 'aborted'
    if (error instanceof module.APIConnectionTimeoutError) return 'timeout'
    if (error instanceof module.APIConnectionError) return 'connection'
    return undefined
  }

  private detail(error: InstanceType<AnthropicModule['APIError']>): string | undefined {
    let text: string | undefined
    if (error.apiMessage) {
      text = error.apiMessage
    } else if (error.error !== undefined && error.error !== null) {
      // A body that is JSON but not Anthropic's error shape (a proxy's own), or plain text the SDK kept.
      text = typeof error.error === 'string' ? error.error : JSON.stringify(error.error)
    } else if (error.status !== undefined && error.message.startsWith(`${error.status} `) && !error.message.endsWith('(no body)')) {
      text = error.message.slice(`${error.status} `.length)
    }

    const cleaned = text === undefined ? '' : this.clean(text)
    return cleaned === '' ? undefined : cleaned
  }
}

/**
 * The Messages API has no tool role without tool-use ids, which synapse does not track; tool output
 * is therefore sent as a user message that says what it is. Consecutive user turns are fine: the API
 * combines them.
 */
function toAnthropicMessage(message: Turn): Anthropic.MessageParam {
  switch (message.role) {
    case 'assistant': {
      return {content: message.content, role: 'assistant'}
    }

    case 'user': {
      return {content: message.content, role: 'user'}
    }

    case 'tool': {
      return {content: `Tool output:\n${message.content}`, role: 'user'}
    }
  }
}

function withoutNulls(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined))
}
