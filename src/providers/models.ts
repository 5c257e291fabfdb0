/**
 * What `synapse models` lists: each provider's default and well-known models, and, for a provider
 * that can ask its configured server (`ProviderDescriptor.listModels`), what that server offers. A
 * server that does not answer in time or answers with an error costs one note, never the list.
 */
import type {LoadedConfig} from '../config/index.js'
import {SynapseError} from '../core/errors.js'
import {MODEL_FACTS_SOURCE, type ModelFacts, modelFacts, type ModelFactsSource} from './model-facts.js'
import type {ProviderDescriptor} from './provider.js'
import type {ProviderRegistry} from './registry.js'
import {providerSettings} from './settings.js'
import {displayUrl, systemErrorCode} from './support.js'

/** How long a server has to list its models: a `models` run must not hang on a server that is down. */
export const SERVER_TIMEOUT_MS = 2000

export interface ModelEntry {
  /** The provider's default model (used when neither a flag nor the config names one). */
  default: boolean
  /** Context window and prices (see model-facts.ts); null when neither the shipped data nor the config knows the model. */
  facts: ModelFacts | null
  /** In the provider's own list of well-known models (its default counts). */
  known: boolean
  model: string
  provider: string
  /** The provider's server lists it; null when no server was asked or it gave no list. */
  served: boolean | null
}

export interface ServerListing {
  /** Why there is no list, in one line; null when the server answered. */
  error: null | string
  /** How many models it listed; null when it did not answer. */
  models: null | number
  provider: string
  /** The configured base URL, without credentials; null when the provider's own endpoint is used. */
  url: null | string
}

export interface ModelsResult {
  models: ModelEntry[]
  /** The servers that were asked, in provider order. */
  servers: ServerListing[]
  /** Where the shipped facts come from. */
  source: ModelFactsSource
}

export interface ListModelsOptions {
  env?: NodeJS.ProcessEnv
  /** Only this provider (a registered name). */
  provider?: string
  timeoutMs?: number
}

/** Longest model id shown; anything longer is not an id a person would type. */
const MAX_ID_LENGTH = 200

export async function listModels(registry: ProviderRegistry, config: LoadedConfig, options: ListModelsOptions = {}): Promise<ModelsResult> {
  const env = options.env ?? process.env
  const descriptors = options.provider === undefined ? registry.list().map(r => r.descriptor) : [registry.get(options.provider, {typed: true})]
  // Every server is asked at once, so that the wait is one timeout at most, not one per provider.
  const asked = await Promise.all(descriptors.map(descriptor => askServer(descriptor, config, env, options.timeoutMs ?? SERVER_TIMEOUT_MS)))
  const models: ModelEntry[] = []
  const servers: ServerListing[] = []
  descriptors.forEach((descriptor, i) => {
    const answer = asked[i]
    if (answer) servers.push(answer.listing)
    models.push(...entriesOf(descriptor, answer?.ids))
  })
  const facts = await Promise.all(models.map(entry => modelFacts(entry.model, entry.provider, config)))
  return {models: models.map((entry, i) => ({...entry, facts: facts[i]})), servers, source: MODEL_FACTS_SOURCE}
}

function entriesOf(descriptor: ProviderDescriptor, served: Set<string> | undefined): ModelEntry[] {
  const known = [...new Set([descriptor.defaultModel, ...(descriptor.models ?? [])])]
  const extra = served ? [...served].filter(id => !known.includes(id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : []
  const entry = (model: string, isKnown: boolean): ModelEntry => ({
    default: model === descriptor.defaultModel,
    facts: null,
    known: isKnown,
    model,
    provider: descriptor.name,
    served: served ? served.has(model) : null,
  })
  return [...known.map(model => entry(model, true)), ...extra.map(model => entry(model, false))]
}

async function askServer(
  descriptor: ProviderDescriptor,
  config: LoadedConfig,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<undefined | {ids?: Set<string>; listing: ServerListing}> {
  if (!descriptor.listModels) return undefined
  const settings = providerSettings(descriptor, config, env)
  const url = settings.baseUrl === undefined ? null : displayUrl(settings.baseUrl)
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    const ids = await descriptor.listModels(settings, {signal})
    if (ids === undefined) return undefined
    const clean = new Set(ids.map(id => plainId(id)).filter((id): id is string => id !== undefined))
    return {ids: clean, listing: {error: null, models: clean.size, provider: descriptor.name, url}}
  } catch (error) {
    return {listing: {error: describeFailure(error, signal, timeoutMs, settings.apiKey), models: null, provider: descriptor.name, url}}
  }
}

/** A model id as a server sent it is data: no control characters, no white space, a sane length. */
function plainId(id: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const clean = id.replaceAll(/[\u0000-\u001F\u007F-\u009F]/g, '').trim()
  if (clean === '' || /\s/.test(clean) || clean.length > MAX_ID_LENGTH) return undefined
  return clean
}

function describeFailure(error: unknown, signal: AbortSignal, timeoutMs: number, apiKey: string | undefined): string {
  let text: string
  if (signal.aborted) text = `no answer within ${timeoutMs / 1000} s`
  else if (error instanceof SynapseError) text = error.message
  else {
    const code = systemErrorCode(error)
    // Deno's fetch gives no code, only the OS's words in the cause's message.
    const refused = code === 'ECONNREFUSED' || /connection refused/i.test(causeMessages(error))
    text = refused
      ? 'connection refused'
      : code
        ? `connection failed (${code})`
        : error instanceof TypeError
          ? 'connection failed'
          : error instanceof Error
            ? error.message
            : String(error)
  }

  const line = text.split('\n')[0]
  // A provider's own message might quote what it sent; the key must never be printed.
  return apiKey ? line.replaceAll(apiKey, '********') : line
}

function causeMessages(error: unknown): string {
  const messages: string[] = []
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) messages.push(current.message)
  return messages.join(' ')
}

/** The one line `synapse models` prints on stderr for a server that gave no list. */
export function serverNote(listing: ServerListing): string {
  return `Note: ${listing.provider}: the server${listing.url ? ` at ${listing.url}` : ''} did not list its models (${listing.error}); showing the known ones.`
}
