/**
 * The `anthropic` provider: Claude through the Messages API with streaming, on the official
 * `@anthropic-ai/sdk` (1.x, which speaks API version 2026-10-21).
 *
 * The SDK costs about 260 ms to import, so it is loaded on the first `stream()` call: registering the
 * provider, listing it or creating it (which the CLI does for every chat command) stays cheap.
 */
import type Anthropic from '@anthropic-ai/sdk'
import {type ProviderErrorTranslator, type SdkClientOptions, SdkProvider, SynapseError, displayUrl, streamReply, systemAndTurns, withDetail} from 'synapse-cli'
import type {ChatMessage, ProviderDescriptor, ProviderSettings, ServerAnswer, StreamEvent, StreamOptions, Usage} from 'synapse-cli'

type AnthropicModule = typeof import('@anthropic-ai/sdk')
let sdk: Promise<AnthropicModule> | undefined
type RequestBody = Anthropic.MessageCreateParamsStreaming & {temperature?: number}

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com'
/**
 * The API requires `max_tokens`. Thinking tokens count against it, and the current models think by
 * default, so a cap in the low thousands would cut ordinary answers short.
 */
export const DEFAULT_MAX_TOKENS = 16_384

export const anthropicProvider: ProviderDescriptor = {
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  apiKeyUrl: 'https://console.anthropic.com/settings/keys',
  create: settings => new AnthropicProvider(settings),
  defaultBaseUrl: ANTHROPIC_BASE_URL,
  defaultModel: 'claude-sonnet-5-5',
  description: 'Anthropic Claude models through the Messages API (or a compatible proxy through base_url)',
  models: ['claude-sonnet-5-5', 'claude-opus-5-5', 'claude-haiku-5-5', 'claude-fable-5-2', 'claude-sonnet-5', 'claude-opus-5', 'claude-haiku-4-5'],
  name: 'anthropic',
  options: {
    max_tokens: {description: `The output cap sent when none is given (the API requires one; default ${DEFAULT_MAX_TOKENS})`, min: 1, type: 'integer'},
  },
}

/**
 * Settings beyond the common ones, read from `ProviderSettings.extra` (config `providers.anthropic.<key>`):
 * - `max_tokens`: the output cap sent when the caller gives none (the API requires one); default
 *   DEFAULT_MAX_TOKENS.
 *
 * The SDK's own environment variables (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN,
 * credential profiles on disk) are deliberately not consulted: the key and base URL are always
 * passed explicitly, so what the CLI reports is what is used.
 */
export class AnthropicProvider extends SdkProvider<Anthropic> {
  readonly #defaultMaxTokens: number

  constructor(settings: ProviderSettings) {
    super(anthropicProvider, settings, ANTHROPIC_BASE_URL)
    this.#defaultMaxTokens = this.option<number>('max_tokens') ?? DEFAULT_MAX_TOKENS
  }

  async *stream(messages: ChatMessage[], options: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    // null, not undefined: the SDK would read ANTHROPIC_API_KEY behind the CLI's back. Core refused a
    // missing key before this provider was created.
    const make = (module: AnthropicModule, common: SdkClientOptions) => new module.Anthropic({...common, apiKey: this.apiKey ?? null})
    const {client, errors} = await this.connect(() => (sdk ??= import('@anthropic-ai/sdk')), make, options, {
      answer: overloadedOrSampling,
      elsewhere: `Check the base URL ${displayUrl(this.baseUrl)}: the SDK adds /v1/messages to it itself.`,
      unknownModel: ['See the current model names at https://platform.claude.com/docs/en/about-claude/models/overview.'],
    })

    // The whole-message usage as the API reports it, kept with the reply: message_start's, then message_delta's on top.
    let rawUsage: Record<string, unknown> | undefined
    yield* streamReply(
      errors,
      requestSignal => client.messages.create(this.#body(messages, options), {signal: requestSignal}).withResponse(),
      event => {
        // The optional chaining below is on purpose: a proxy may leave out fields the SDK's types call required.
        switch (event.type) {
          case 'content_block_delta': {
            return event.delta?.type === 'text_delta' ? {text: event.delta.text} : undefined
          }

          case 'message_delta': {
            // Cumulative whole-message counts, omitted when they do not apply: overwrite when present, never add.
            if (event.usage) rawUsage = {...rawUsage, ...withoutNulls(event.usage)}
            return {
              finishReason: event.delta?.stop_reason,
              raw: {...(event.delta?.stop_details ? {stop_details: event.delta.stop_details} : {}), ...(rawUsage ? {usage: rawUsage} : {})},
              usage: event.usage ? {...inputUsageOf(rawUsage), outputTokens: countOf(event.usage.output_tokens)} : undefined,
            }
          }

          case 'message_start': {
            const {message} = event
            if (message?.usage) rawUsage = withoutNulls(message.usage)
            return {
              model: message?.model,
              raw: {...(message?.id ? {id: message.id} : {}), ...(rawUsage ? {usage: rawUsage} : {})},
              // output_tokens here counts only what was generated before the first event; message_delta has the total.
              usage: message?.usage ? {inputTokens: null, ...inputUsageOf(rawUsage), outputTokens: null} : undefined,
            }
          }

          default: {
            // content_block_start/stop, message_stop, thinking and tool blocks, and event types newer than this code carry no reply text.
            return undefined
          }
        }
      },
    )
  }

  #body(messages: ChatMessage[], options: StreamOptions): RequestBody {
    // The Messages API takes the system prompt as a top-level parameter, not as a message.
    const {system, turns} = systemAndTurns(messages)
    const body: RequestBody = {
      max_tokens: options.maxTokens ?? this.#defaultMaxTokens,
      messages: turns,
      model: options.model,
      stream: true,
    }
    if (system !== undefined) body.system = system
    // Not in the SDK's types: API version 2026-10-21 dropped sampling parameters. Forwarded as the
    // port promises, for proxies that still take it; the API itself answers 400, which is reported.
    if (options.temperature !== undefined) body.temperature = options.temperature
    return body
  }
}

/**
 * What the Anthropic API says that others do not: an overload (529, or an `overloaded_error` event in
 * a stream under way), and the sampling parameters API version 2026-10-21 refuses.
 */
function overloadedOrSampling(answer: ServerAnswer, errors: ProviderErrorTranslator, cause: unknown): SynapseError | undefined {
  const {detail, status, type} = answer
  const overloaded = status === 529 || type === 'overloaded_error'
  if (status === undefined && overloaded) {
    return new SynapseError('PROVIDER_ERROR', withDetail('The anthropic provider became overloaded in the middle of its reply', detail), {
      cause,
      suggestions: ['Try again.'],
    })
  }

  if (status !== undefined && overloaded) {
    return new SynapseError('PROVIDER_ERROR', withDetail(`The anthropic provider is overloaded (${status})${errors.retries()}`, detail), {
      cause,
      suggestions: ['Try again in a little while, or choose another model with --model.'],
    })
  }

  if (status === 400 && /\b(?:temperature|top_p|top_k)\b/.test(detail ?? '')) {
    return errors.refused(status, detail, cause, ['API version 2026-10-21, which this provider speaks, takes no sampling parameters: leave out --temperature.'])
  }

  return undefined
}

/**
 * The input side of the whole-message usage so far. The API counts prompt-cache reads and writes
 * apart from `input_tokens`; synapse's input count is every token of the prompt, so they are added
 * in, and the reads are also reported as the cached part.
 */
function inputUsageOf(usage: Record<string, unknown> | undefined): Partial<Usage> {
  const input = countOf(usage?.input_tokens)
  if (input === undefined) return {}
  const read = countOf(usage?.cache_read_input_tokens)
  const written = countOf(usage?.cache_creation_input_tokens) ?? 0
  return {inputTokens: input + (read ?? 0) + written, ...(read === undefined ? {} : {cachedInputTokens: read})}
}

/** A token count the API reported, or undefined (keep the earlier one) when it sent none. */
function countOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}

function withoutNulls(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined))
}
