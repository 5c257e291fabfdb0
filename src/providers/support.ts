/**
 * What every streaming provider needs around its SDK, whatever the SDK: one request that both the
 * caller's signal and a silence timer can stop, and the translation of what the SDK or fetch throws
 * into the one-line SynapseErrors of the Provider contract. A provider supplies only what its SDK
 * decides: which of its errors is which, read into a small ProviderFailure, and what the server's
 * answer said.
 *
 * The built-in `openai` provider and the `anthropic` plugin both build on it, so that the same failure
 * reads the same whichever provider met it.
 */
import {displayPath} from '../config/files.js'
import {findKey} from '../config/keys.js'
import type {SettingSource} from '../config/types.js'
import {SynapseError} from '../core/errors.js'
import {redactUrl} from '../core/redact.js'
import {apiKeySetting, apiKeyWays} from './api-keys.js'
import type {ChatMessage, ProviderDescriptor, StreamEvent, Usage} from './provider.js'

/** The most of a server's own error text a message repeats, so one line stays readable. */
const MAX_DETAIL = 200

/**
 * How long a reply may take to start: long enough for a local server that loads a model from disk
 * before it answers (tens of seconds for a large one), short enough that a server that will never
 * answer is reported within a couple of minutes rather than the SDKs' 10 minutes times 3 attempts.
 * Retries of refused connections, 429s and 5xx answers happen within this window too.
 */
export const DEFAULT_TIMEOUT_MS = 120_000
/** The longest silence between two pieces of a reply that has started: a generating model never pauses this long. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

/** The two time limits of one request, from `ProviderSettings`, with the defaults filled in. */
export interface StreamLimits {
  /** Silence allowed between two events once the stream has begun. */
  idleTimeoutMs: number
  /** From sending the request to the stream's first event, retries included. */
  timeoutMs: number
}

/** The limits for a provider, checked: CONFIG_INVALID names the setting when one is not a positive whole number. */
export function streamLimits(provider: string, settings: {idleTimeoutMs?: number; timeoutMs?: number}): StreamLimits {
  const check = (value: number | undefined, key: string, fallback: number): number => {
    if (value === undefined) return fallback
    if (!Number.isInteger(value) || value <= 0) {
      throw new SynapseError('CONFIG_INVALID', `providers.${provider}.${key} must be a positive whole number of milliseconds, not ${JSON.stringify(value)}.`)
    }

    return value
  }

  return {
    idleTimeoutMs: check(settings.idleTimeoutMs, 'idle_timeout_ms', DEFAULT_IDLE_TIMEOUT_MS),
    timeoutMs: check(settings.timeoutMs, 'timeout_ms', DEFAULT_TIMEOUT_MS),
  }
}

/**
 * What an SDK client should be given as its own timeout: a backstop that fires only after guardStream's
 * timer, which reports the limit the user set and is not retried (the SDKs retry their own timeouts).
 */
export function sdkTimeout(limits: StreamLimits): number {
  return limits.timeoutMs + 1000
}

/**
 * A failure in the terms core translates it in. A provider reads it out of whatever its SDK threw
 * (`readStainlessError` does it for the SDKs Stainless generates: openai, @anthropic-ai/sdk), so that
 * the wording of every failure is written once, here.
 */
export type ProviderFailure = ServerAnswer | {kind: 'aborted' | 'connection' | 'timeout'}

/** The server answered with an error: an HTTP status, or an error event inside a stream that had begun. */
export interface ServerAnswer {
  /** The server's machine-readable code where it sends one, e.g. OpenAI's 'insufficient_quota'. */
  code?: string
  /** The server's own words as sent; core shortens them to one line and masks the key in them. */
  detail?: string
  kind: 'answer'
  /** Undefined for an error event in a stream that had started fine. */
  status?: number
  /** The server's error type, e.g. Anthropic's 'overloaded_error'. */
  type?: string
}

/** What a provider says about a failure beyond what core says for every provider. */
export interface ProviderAdvice {
  /**
   * The provider's own reading of a server's answer, asked before core's; undefined leaves it to core.
   * `answer.detail` is already cleaned; build the error with the translator's helpers so that the
   * wording stays shared.
   */
  answer?(answer: ServerAnswer, errors: ProviderErrorTranslator, cause: unknown): SynapseError | undefined
  /** Suggestions after 'Choose another model with --model.' when the server does not know the model (404). */
  unknownModel?: string[]
}

export interface ProviderErrorContext {
  advice?: ProviderAdvice
  /** The endpoint the request went to, as configured (`displayUrl` makes what messages show). */
  baseUrl: string
  /** The provider as registered: messages name its key variable and settings. */
  descriptor: Pick<ProviderDescriptor, 'apiKeyEnv' | 'name'>
  /** False when the user configured no key, so that a 401 says one is wanted rather than wrong. */
  keyConfigured: boolean
  /** Where the configured key came from, when known: a rejected key's message says where to fix it. */
  keySource?: SettingSource
  /** The time limits guardStream enforces; the settings that raise them are `providers.<name>.timeout_ms` and `idle_timeout_ms`. */
  limits: StreamLimits
  /** Retries the SDK makes after the first attempt; messages count them. */
  maxRetries: number
  /** The model asked for, named when the server does not know it. */
  model: string
  /** Reads a thrown error as a ProviderFailure; undefined for what the SDK did not throw (core then reads fetch's own errors). */
  read(error: unknown): ProviderFailure | undefined
  /** The key that was sent, masked wherever a server echoes it; '' when none was. */
  sentKey: string
  /** The caller's signal: once it is aborted, every failure reads as an interruption. */
  signal: AbortSignal | undefined
}

/**
 * Turns whatever the SDK or fetch throws into the SynapseErrors of the Provider contract. The order
 * of the checks, the HTTP statuses, the connection failures and the wording live here once; a
 * provider only reads its SDK's errors (`context.read`) and may add advice of its own.
 */
export class ProviderErrorTranslator {
  /** Set when one of guardStream's timers, not the caller, aborted the request. */
  timedOut?: 'first-event' | 'idle'
  /** The provider's name as messages show it. */
  readonly provider: string
  /** The base URL as messages show it. */
  readonly url: string

  constructor(readonly context: ProviderErrorContext) {
    this.provider = context.descriptor.name
    this.url = displayUrl(context.baseUrl)
  }

  get baseUrlSetting(): string {
    return baseUrlSetting(this.provider)
  }

  interrupted(): SynapseError {
    return interruptedError(this.provider)
  }

  /** A stream that ended without a word of reply and without saying why it stopped: not a chat completion stream. */
  emptyStream(): SynapseError {
    const {baseUrlSetting, provider, url} = this
    return new SynapseError(
      'PROVIDER_ERROR',
      `The ${provider} provider at ${url} ended its stream without any reply or finish reason — check ${baseUrlSetting}.`,
      {
        suggestions: [`Check that ${url} is the API's base URL, not a web page or another service.`],
      },
    )
  }

  /** The response is not a server-sent event stream; `contentType` is the header as the server sent it. */
  notAStream(contentType: string): SynapseError {
    const {baseUrlSetting, provider, url} = this
    const media = contentType.split(';')[0].trim().toLowerCase()
    const what =
      media === 'text/html' || media === 'application/xhtml+xml' ? 'an HTML page' : media === 'application/json' ? 'a JSON document' : `"${this.clean(media)}"`
    return new SynapseError(
      'PROVIDER_ERROR',
      `The ${provider} provider at ${url} answered with ${what}, not a chat completion stream — check ${baseUrlSetting}.`,
      {
        suggestions: [`Check that ${url} is the API's base URL, not a web page or another service.`],
      },
    )
  }

  /** What a request that ran into one of guardStream's limits throws. */
  timeout(limit: 'first-event' | 'idle'): SynapseError {
    const {provider, url} = this
    const {limits} = this.context
    if (limit === 'idle') {
      return new SynapseError(
        'PROVIDER_ERROR',
        `The ${provider} provider at ${url} sent nothing for ${formatDuration(limits.idleTimeoutMs)} in the middle of its reply.`,
        {
          suggestions: [`Try again; raise providers.${provider}.idle_timeout_ms (milliseconds) if the model pauses this long.`],
        },
      )
    }

    return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} did not start its reply within ${formatDuration(limits.timeoutMs)}.`, {
      suggestions: [`Try again; raise providers.${provider}.timeout_ms (milliseconds) for a busy server or a model that is still loading.`],
    })
  }

  /** `phase` is 'stream' once the response has begun: a connection lost then is a broken reply, not a server out of reach. */
  translate(error: unknown, phase: 'request' | 'stream'): SynapseError {
    const {baseUrlSetting, provider, url} = this
    if (error instanceof SynapseError) return error
    const failure = this.context.read(error) ?? fetchFailure(error)
    if (this.context.signal?.aborted) return this.interrupted()
    // Our own timers abort the request the way the caller would: ask them before calling it an interruption.
    if (this.timedOut) return this.timeout(this.timedOut)
    if (failure?.kind === 'aborted') return this.interrupted()
    // The SDK's own timer, a backstop behind guardStream's.
    if (failure?.kind === 'timeout') return this.timeout('first-event')

    if (failure?.kind === 'connection') {
      if (phase === 'stream') return this.broken(error)
      const code = systemErrorCode(error)
      return new SynapseError('PROVIDER_ERROR', `Could not connect to the ${provider} provider at ${url}${code ? ` (${code})` : ''}.`, {
        cause: error,
        suggestions: [`Check that the server is running and reachable at ${url}.`, `Check ${baseUrlSetting} in the config.`],
      })
    }

    if (failure?.kind === 'answer') return this.fromServer(failure, error)

    // The SDKs' reaction to an event whose data is not JSON (their own log lines are switched off).
    if (error instanceof SyntaxError) {
      return new SynapseError(
        'PROVIDER_ERROR',
        `The ${provider} provider at ${url} sent a stream that is not valid server-sent event JSON — check ${baseUrlSetting}.`,
        {
          cause: error,
          suggestions: [`Check that ${url} is the API's base URL and speaks the ${provider} protocol.`],
        },
      )
    }

    // Once the body is flowing, fetch reports a lost connection as a bare TypeError('terminated').
    if (phase === 'stream') return this.broken(error)

    const message = error instanceof Error ? error.message : String(error)
    return new SynapseError('PROVIDER_ERROR', `The ${provider} request failed: ${this.clean(message)}`, {cause: error})
  }

  /** One line of the server's own words, shortened, with the key masked should the server echo it. */
  clean(text: string): string {
    let line = text.replaceAll(/\s+/g, ' ').trim()
    const key = this.context.sentKey
    if (key.length > 0) line = line.replaceAll(key, '[redacted]')
    return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line
  }

  failedWithStatus(status: number, detail: string | undefined, cause: unknown): SynapseError {
    return new SynapseError('PROVIDER_ERROR', withDetail(`The ${this.provider} provider failed with HTTP ${status}${this.retries()}`, detail), {
      cause,
      suggestions: ['Try again later; the fault is on the server side.'],
    })
  }

  rateLimited(detail: string | undefined, cause: unknown, suggestion = 'Wait a little, then try again.'): SynapseError {
    return new SynapseError('PROVIDER_ERROR', withDetail(`The ${this.provider} provider rate-limited the request (429)${this.retries()}`, detail), {
      cause,
      suggestions: [suggestion],
    })
  }

  refused(status: number, detail: string | undefined, cause: unknown, suggestions: string[] = []): SynapseError {
    return new SynapseError('PROVIDER_ERROR', withDetail(`The ${this.provider} provider refused the request (${status})`, detail), {cause, suggestions})
  }

  rejectedKey(status: number, detail: string | undefined, cause: unknown): SynapseError {
    const {descriptor, keyConfigured, keySource} = this.context
    const setting = apiKeySetting(this.provider)
    const variable = descriptor.apiKeyEnv
    const suggestion = keyConfigured
      ? `Check ${this.keyPlace(keySource) ?? (variable ? `${variable} (or ${setting} in the config)` : setting)}: the key may be wrong, revoked, or lack access to this model.`
      : `No API key is set and the server at ${this.url} wants one: ${apiKeyWays(descriptor)}.`
    return new SynapseError('PROVIDER_AUTH', withDetail(`The ${this.provider} provider rejected the API key (${status})`, detail), {
      cause,
      suggestions: [suggestion],
    })
  }

  /** Where the key in use came from, in words that say where to change it; undefined when unknown. */
  private keyPlace(source: SettingSource | undefined): string | undefined {
    if (source?.kind === 'env' && source.variable) return source.variable
    if (source?.kind === 'keys' && source.file) return `the key stored in ${displayPath(source.file)} ("synapse keys set ${this.provider}" replaces it)`
    if (source?.file) return `${apiKeySetting(this.provider)} in ${displayPath(source.file)}`
    return undefined
  }

  /** ' after 2 retries' when the SDK retried, '' when it did not. */
  retries(): string {
    const count = this.context.maxRetries
    if (count === 0) return ''
    return count === 1 ? ' after 1 retry' : ` after ${count} retries`
  }

  unknownModel(detail: string | undefined, cause: unknown): SynapseError {
    const suggestions = ['Choose another model with --model.', ...(this.context.advice?.unknownModel ?? [])]
    return new SynapseError('PROVIDER_NOT_FOUND', withDetail(`The ${this.provider} provider does not know the model "${this.context.model}" (404)`, detail), {
      cause,
      suggestions,
    })
  }

  private broken(error: unknown): SynapseError {
    const {provider, url} = this
    const code = systemErrorCode(error)
    return new SynapseError(
      'PROVIDER_ERROR',
      `The connection to the ${provider} provider at ${url} broke in the middle of its reply${code ? ` (${code})` : ''}.`,
      {
        cause: error,
        suggestions: ['Try again.'],
      },
    )
  }

  private fromServer(failure: ServerAnswer, error: unknown): SynapseError {
    const cleaned = failure.detail === undefined ? '' : this.clean(failure.detail)
    const answer: ServerAnswer = {...failure, detail: cleaned === '' ? undefined : cleaned}
    const own = this.context.advice?.answer?.(answer, this, error)
    if (own) return own

    const {detail, status} = answer
    if (status === undefined) {
      return new SynapseError('PROVIDER_ERROR', withDetail(`The ${this.provider} provider reported an error in the middle of its reply`, detail), {
        cause: error,
        suggestions: ['Try again.'],
      })
    }

    if (status === 401 || status === 403) return this.rejectedKey(status, detail, error)
    if (status === 404) return this.unknownModel(detail, error)
    if (status === 429) return this.rateLimited(detail, error)
    if (status >= 500) return this.failedWithStatus(status, detail, error)
    return this.refused(status, detail, error)
  }
}

/** The error classes every Stainless-generated SDK (openai, @anthropic-ai/sdk) exports under these names. */
export interface StainlessErrors {
  APIConnectionError: abstract new (...args: never[]) => Error
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error
  APIError: abstract new (...args: never[]) => Error & {error?: unknown; status?: number; type?: null | string}
  APIUserAbortError: abstract new (...args: never[]) => Error
}

/**
 * Reads an error of a Stainless-generated SDK. Its transport errors are subclasses of its APIError,
 * and its timeout error of its connection error, so they are asked about first. The server's words
 * are the `message` of the error body (OpenAI keeps the inner `error` object, Anthropic the whole
 * body), else the body itself, else what the SDK kept of a body that was not JSON.
 */
export function readStainlessError(sdk: StainlessErrors, error: unknown): ProviderFailure | undefined {
  if (error instanceof sdk.APIUserAbortError) return {kind: 'aborted'}
  if (error instanceof sdk.APIConnectionTimeoutError) return {kind: 'timeout'}
  if (error instanceof sdk.APIConnectionError) return {kind: 'connection'}
  if (!(error instanceof sdk.APIError)) return undefined

  const {status} = error
  const body = error.error as unknown
  const said = (value: unknown) => (typeof value === 'object' && value !== null ? (value as {message?: unknown}).message : undefined)
  const message = said((body as {error?: unknown} | undefined)?.error) ?? said(body)
  let detail: string | undefined
  if (typeof message === 'string') detail = message
  else if (body !== undefined && body !== null) detail = typeof body === 'string' ? body : JSON.stringify(body)
  else if (status !== undefined && error.message.startsWith(`${status} `) && !error.message.endsWith('(no body)'))
    detail = error.message.slice(`${status} `.length)

  const {code, errorCode} = error as {code?: unknown; errorCode?: unknown}
  const machineCode = typeof code === 'string' ? code : typeof errorCode === 'string' ? errorCode : undefined
  return {
    kind: 'answer',
    ...(machineCode === undefined ? {} : {code: machineCode}),
    ...(detail === undefined ? {} : {detail}),
    ...(status === undefined ? {} : {status}),
    ...(typeof error.type === 'string' ? {type: error.type} : {}),
  }
}

/** System error codes of a server out of reach: refused, unknown host, reset, TLS trouble. */
const CONNECTION_CODES =
  /^(?:E(?:CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN|PIPE)|UND_ERR_\w+|ERR_TLS_\w+|ERR_SSL_\w+|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/

/** What fetch and node throw on their own, for what an SDK did not wrap (or a provider with no SDK). */
function fetchFailure(error: unknown): ProviderFailure | undefined {
  if (!(error instanceof Error)) return undefined
  if (error.name === 'AbortError') return {kind: 'aborted'}
  if (error.name === 'TimeoutError') return {kind: 'timeout'}
  const code = systemErrorCode(error)
  return code !== undefined && CONNECTION_CODES.test(code) ? {kind: 'connection'} : undefined
}

/** What an SDK's `create(...).withResponse()` resolves to: the parsed stream and the HTTP response it came in. */
export interface OpenedStream<T> {
  data: AsyncIterable<T>
  response: {headers: {get(name: string): null | string}}
}

/**
 * Opens a provider's stream and yields its events. The caller's signal and two timers abort the same
 * request: one from sending it until the stream's first event (`limits.timeoutMs`, covering the SDK's
 * retries), one on each silence after that (`limits.idleTimeoutMs`). The idle timer measures only the
 * wait for the next event, not the time the caller spends on one. A response that is not a
 * server-sent event stream (an HTML page from a wrong base URL) is refused before it is read. Every
 * failure comes out translated by `errors`. Ending the iteration early aborts the request.
 */
export async function* guardStream<T>(
  errors: ProviderErrorTranslator,
  open: (signal: AbortSignal) => Promise<OpenedStream<T>>,
): AsyncGenerator<T, void, undefined> {
  const {limits, signal} = errors.context
  // Aborted before it began: nothing is sent.
  if (signal?.aborted) throw errors.interrupted()
  const request = new AbortController()
  const abortRequest = () => request.abort()
  signal?.addEventListener('abort', abortRequest, {once: true})
  let completed = false
  let timer: NodeJS.Timeout | undefined
  const arm = (limit: 'first-event' | 'idle', ms: number) => {
    timer = setTimeout(() => {
      errors.timedOut = limit
      request.abort()
    }, ms)
  }

  try {
    arm('first-event', limits.timeoutMs)
    let opened: OpenedStream<T>
    try {
      opened = await open(request.signal)
    } catch (error) {
      throw errors.translate(error, 'request')
    }

    const contentType = opened.response.headers.get('content-type')
    if (contentType !== null && contentType.split(';')[0].trim().toLowerCase() !== 'text/event-stream') throw errors.notAStream(contentType)

    const iterator = opened.data[Symbol.asyncIterator]()
    let first = true
    while (true) {
      let result: IteratorResult<T>
      // The first-event timer started with the request and is still running for the first event.
      if (!first) arm('idle', limits.idleTimeoutMs)
      first = false
      try {
        result = await iterator.next()
      } catch (error) {
        throw errors.translate(error, 'stream')
      } finally {
        clearTimeout(timer)
      }

      // SDKs end the iteration quietly when their request is aborted; tell why it ended.
      if (signal?.aborted) throw errors.interrupted()
      if (errors.timedOut) throw errors.timeout(errors.timedOut)
      if (result.done) break
      yield result.value
    }

    completed = true
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', abortRequest)
    // Reached without completing when the caller stopped iterating early or a failure is on its way.
    if (!completed) request.abort()
  }
}

/** What one event of an SDK's stream says about the reply; a field left out changes nothing. */
export interface ReplyPart {
  finishReason?: null | string
  model?: string
  /** Merged into the done event's `raw` key by key: a later value of a key replaces the earlier one. */
  raw?: Record<string, unknown>
  text?: null | string
  /** Token counts; a count left out keeps the one reported before, null forgets it. */
  usage?: Partial<Usage>
}

/**
 * The Provider contract's events from an SDK's stream: `guardStream` around the request, a delta for
 * every non-empty text, and at the end exactly one done event with what the parts said (the model
 * asked for when the server names none). A stream with neither text nor a finish reason is not a
 * chat stream at all and throws. `read` maps one SDK event; undefined for events that say nothing.
 */
export async function* streamReply<T>(
  errors: ProviderErrorTranslator,
  open: (signal: AbortSignal) => Promise<OpenedStream<T>>,
  read: (event: T) => ReplyPart | undefined,
): AsyncGenerator<StreamEvent, void, undefined> {
  let finishReason: null | string = null
  let {model} = errors.context
  let usage: Usage = {inputTokens: null, outputTokens: null}
  const raw: Record<string, unknown> = {}
  let replied = false

  for await (const event of guardStream(errors, open)) {
    const part = read(event)
    if (part === undefined) continue
    if (part.model) model = part.model
    if (part.finishReason) finishReason = part.finishReason
    if (part.usage) usage = mergeUsage(usage, part.usage)
    if (part.raw) Object.assign(raw, part.raw)
    if (part.text) {
      replied = true
      yield {text: part.text, type: 'delta'}
    }
  }

  if (!replied && finishReason === null) throw errors.emptyStream()
  yield Object.keys(raw).length > 0 ? {finishReason, model, raw, type: 'done', usage} : {finishReason, model, type: 'done', usage}
}

/** Counts reported later replace earlier ones; a count left out keeps the earlier one; the optional ones appear only once reported. */
function mergeUsage(usage: Usage, part: Partial<Usage>): Usage {
  const merged: Usage = {...usage}
  for (const key of ['inputTokens', 'outputTokens', 'cachedInputTokens', 'costUsd'] as const) {
    if (part[key] !== undefined) merged[key] = part[key]
  }
  return merged
}

/** What `Provider.stream` throws once the caller's signal is aborted. */
export function interruptedError(provider: string): SynapseError {
  return new SynapseError('INTERRUPTED', `The ${provider} request was interrupted.`, {exitCode: 130})
}

/** Where a provider's base URL is set, as suggestions name it: 'OPENAI_BASE_URL or providers.openai.base_url'. */
export function baseUrlSetting(provider: string): string {
  const key = `providers.${provider}.base_url`
  const variable = findKey(key)?.env
  return variable ? `${variable} or ${key}` : key
}

/** The base URL with its password redacted and no trailing slash, as messages show it. */
export function displayUrl(baseUrl: string): string {
  return redactUrl(baseUrl).replace(/\/+$/, '')
}

/** 300 -> '300 ms', 600000 -> '600 s'. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/** The system error code (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET...) somewhere down the cause chain. */
export function systemErrorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const {code} = current as {code?: unknown}
    if (typeof code === 'string' && code !== '') return code
    current = current.cause
  }

  return undefined
}

/** A sentence followed by the server's own words when it gave any. */
export function withDetail(sentence: string, detail: string | undefined): string {
  return detail ? `${sentence}: ${detail}` : `${sentence}.`
}

/** A message as chat APIs take it. */
export interface WireMessage {
  content: string
  role: 'assistant' | 'system' | 'user'
}

/**
 * The conversation for an API that takes system prompts among the messages (Chat Completions).
 * Chat APIs accept a tool message only as the answer to a tool-call id, which synapse does not track;
 * tool output is therefore sent as a user message that says what it is.
 */
export function wireMessages(messages: readonly ChatMessage[]): WireMessage[] {
  return messages.map(({content, role}) => (role === 'tool' ? {content: `Tool output:\n${content}`, role: 'user'} : {content, role}))
}

/**
 * The conversation for an API that takes the system prompt as a parameter of its own (the Messages
 * API): every system message joined by a blank line, undefined when there is none, and the other
 * turns as `wireMessages` sends them. Consecutive user turns stay apart; such APIs combine them.
 */
export function systemAndTurns(messages: readonly ChatMessage[]): {system: string | undefined; turns: Array<WireMessage & {role: 'assistant' | 'user'}>} {
  const system = messages.filter(message => message.role === 'system').map(message => message.content)
  const turns = wireMessages(messages.filter(message => message.role !== 'system')) as Array<WireMessage & {role: 'assistant' | 'user'}>
  return {system: system.length > 0 ? system.join('\n\n') : undefined, turns}
}
