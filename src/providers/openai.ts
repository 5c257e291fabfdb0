/**
 * The built-in `openai` provider: streaming chat completions through the official `openai` SDK, for
 * api.openai.com and every OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio, OpenRouter)
 * reached through `baseUrl`.
 *
 * The SDK costs about 140 ms to import, so it is loaded on the first `stream()` call: registering the
 * provider, listing it or creating it (which the CLI does for every chat command) stays cheap.
 */
import type OpenAI from 'openai'

import {SynapseError} from '../core/errors.js'
import type {ChatMessage, ProviderDescriptor, ProviderSettings, StreamEvent, StreamOptions, Usage} from './provider.js'
import {type SdkClientOptions, SdkProvider} from './sdk-provider.js'
import {type ProviderErrorTranslator, type ServerAnswer, displayUrl, streamReply, wireMessages} from './support.js'

type OpenAIModule = typeof import('openai')
let sdk: Promise<OpenAIModule> | undefined

export const OPENAI_BASE_URL = 'https://api.openai.com/v1'
/** Sent to servers that need no key (a local Ollama, say) because the SDK insists on sending one. */
const PLACEHOLDER_KEY = 'synapse-no-key'

type MaxTokensField = 'max_completion_tokens' | 'max_tokens'

export const openaiProvider: ProviderDescriptor = {
  apiKeyEnv: 'OPENAI_API_KEY',
  apiKeyUrl: 'https://platform.openai.com/api-keys',
  create: settings => new OpenAIProvider(settings),
  defaultBaseUrl: OPENAI_BASE_URL,
  defaultModel: 'gpt-5.4-mini',
  description: 'OpenAI, or any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio, OpenRouter) through base_url',
  listModels: listServerModels,
  models: ['gpt-5.5', 'gpt-5.4', 'gpt-5.4-mini', 'gpt-5.4-nano', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini', 'o4-mini', 'o3'],
  name: 'openai',
  // api.openai.com insists on a key; a local OpenAI-compatible server usually takes none.
  needsApiKey: settings => isOpenAIEndpoint(settings.baseUrl ?? OPENAI_BASE_URL),
  options: {
    max_tokens_field: {
      choices: ['max_completion_tokens', 'max_tokens'],
      description: 'The request field that carries the output cap (default: max_completion_tokens for api.openai.com, max_tokens elsewhere)',
      type: 'string',
    },
    organization: {description: "Sent as OpenAI's organization header", type: 'string'},
    project: {description: "Sent as OpenAI's project header", type: 'string'},
  },
}

/**
 * `GET <base_url>/models` of an OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio...): the
 * ids it lists. Plain fetch rather than the SDK, which costs 140 ms to import for one GET.
 */
async function listServerModels(settings: ProviderSettings, options: {signal: AbortSignal}): Promise<string[] | undefined> {
  const baseUrl = settings.baseUrl ?? OPENAI_BASE_URL
  if (isOpenAIEndpoint(baseUrl)) return undefined
  const headers: Record<string, string> = {accept: 'application/json'}
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`
  const response = await fetch(`${baseUrl.replace(/\/+$/, '')}/models`, {headers, signal: options.signal})
  if (!response.ok) throw new SynapseError('PROVIDER_ERROR', `HTTP ${response.status}`)
  let body: unknown
  try {
    body = await response.json()
  } catch {
    throw new SynapseError('PROVIDER_ERROR', 'the answer is not JSON')
  }

  const data = (body as {data?: unknown})?.data
  if (!Array.isArray(data)) throw new SynapseError('PROVIDER_ERROR', 'the answer has no list of models')
  return data.map(entry => (entry as {id?: unknown})?.id).filter((id): id is string => typeof id === 'string')
}

/**
 * Settings beyond the common ones, read from `ProviderSettings.extra` (config `providers.openai.<key>`):
 * - `organization`, `project`: sent as OpenAI's organization and project headers.
 * - `max_tokens_field`: 'max_tokens' or 'max_completion_tokens', the request field that carries
 *   `maxTokens`. Default: 'max_completion_tokens' for api.openai.com (its reasoning models refuse the
 *   deprecated 'max_tokens'), 'max_tokens' elsewhere (what most compatible servers understand).
 *
 * The SDK's own environment variables (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID...) are
 * deliberately not consulted: the CLI resolves settings, so what it reports is what is used.
 */
export class OpenAIProvider extends SdkProvider<OpenAI> {
  readonly #maxTokensField: MaxTokensField

  constructor(settings: ProviderSettings) {
    super(openaiProvider, settings, OPENAI_BASE_URL)
    this.#maxTokensField = this.option<MaxTokensField>('max_tokens_field') ?? (isOpenAIEndpoint(this.baseUrl) ? 'max_completion_tokens' : 'max_tokens')
  }

  async *stream(messages: ChatMessage[], options: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    const url = displayUrl(this.baseUrl)
    const {client, errors} = await this.connect(
      () => (sdk ??= import('openai')),
      (module, common) => this.#client(module, common),
      options,
      {
        answer: quotaExhausted,
        elsewhere: `Check the base URL ${url}: OpenAI-compatible servers usually serve under /v1.`,
        unknownModel: [`See which models the server offers: GET ${url}/models.`],
      },
    )
    yield* streamReply(
      errors,
      requestSignal => client.chat.completions.create(this.#body(messages, options), {signal: requestSignal}).withResponse(),
      chunk => {
        // Some compatible servers omit `choices` on the usage chunk.
        const choice = chunk.choices?.find(candidate => candidate.index === 0)
        return {
          finishReason: choice?.finish_reason,
          model: chunk.model,
          raw: {...(chunk.id ? {id: chunk.id} : {}), ...(chunk.usage ? {usage: chunk.usage} : {})},
          text: choice?.delta?.content,
          usage: chunk.usage ? usageOf(chunk.usage) : undefined,
        }
      },
    )
  }

  #body(messages: ChatMessage[], options: StreamOptions): OpenAI.ChatCompletionCreateParamsStreaming {
    const body: OpenAI.ChatCompletionCreateParamsStreaming = {
      messages: wireMessages(messages),
      model: options.model,
      stream: true,
      // Without it, OpenAI and most compatible servers send no token counts in a stream.
      stream_options: {include_usage: true},
    }
    if (options.temperature !== undefined) body.temperature = options.temperature
    if (options.maxTokens !== undefined) body[this.#maxTokensField] = options.maxTokens
    return body
  }

  #client(module: OpenAIModule, common: SdkClientOptions): OpenAI {
    const {extra} = this
    return new module.OpenAI({
      ...common,
      adminAPIKey: null,
      apiKey: this.apiKey ?? PLACEHOLDER_KEY,
      organization: typeof extra.organization === 'string' ? extra.organization : null,
      project: typeof extra.project === 'string' ? extra.project : null,
      webhookSecret: null,
    })
  }
}

/**
 * The counts of a usage chunk. Cached tokens are part of prompt_tokens, as synapse counts them too. A
 * cost comes only from servers that add one (OpenRouter's `usage.cost`, in US dollars).
 */
function usageOf(usage: OpenAI.CompletionUsage): Partial<Usage> {
  const cached = usage.prompt_tokens_details?.cached_tokens
  const cost = (usage as {cost?: unknown}).cost
  return {
    inputTokens: usage.prompt_tokens ?? null,
    outputTokens: usage.completion_tokens ?? null,
    ...(typeof cached === 'number' ? {cachedInputTokens: cached} : {}),
    ...(typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? {costUsd: cost} : {}),
  }
}

/** A 429 for an exhausted quota will not pass by waiting: point at billing instead. */
function quotaExhausted(answer: ServerAnswer, errors: ProviderErrorTranslator, cause: unknown): SynapseError | undefined {
  if (answer.status !== 429 || answer.code !== 'insufficient_quota') return undefined
  return errors.rateLimited(answer.detail, cause, 'The account is out of quota: check its plan and billing.')
}

/** api.openai.com and its regional hosts, which always require a key. */
function isOpenAIEndpoint(baseUrl: string): boolean {
  try {
    const {hostname} = new URL(baseUrl)
    return hostname === 'api.openai.com' || hostname.endsWith('.api.openai.com')
  } catch {
    return false
  }
}
