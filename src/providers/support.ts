/**
 * What every streaming provider needs around its SDK, whatever the SDK: one request that both the
 * caller's signal and a silence timer can stop, and the translation of what the SDK or fetch throws
 * into the one-line SynapseErrors of the Provider contract. A provider supplies only what its SDK
 * decides: which of its error classes is which, and what the server's answer said.
 *
 * The built-in `openai` provider and the `anthropic` plugin both build on it, so that the same failure
 * reads the same whichever provider met it.
 */
import {SynapseError} from '../core/errors.js'
import {redactUrl} from '../core/redact.js'

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

export interface ProviderErrorContext {
  /** Where the base URL is set, as the suggestion after a failed connection names it: 'providers.x.base_url'. */
  baseUrlSetting: string
  /** Retries the SDK makes after the first attempt; messages count them. */
  maxRetries: number
  /** The provider's name as messages show it. */
  provider: string
  /** The key that was sent, masked wherever a server echoes it; '' when none was. */
  sentKey: string
  /** The caller's signal: once it is aborted, every failure reads as an interruption. */
  signal: AbortSignal | undefined
  /** The time limits guardStream enforces; the settings that raise them are `providers.<provider>.timeout_ms` and `idle_timeout_ms`. */
  limits: StreamLimits
  /** The base URL as messages show it (see `displayUrl`). */
  url: string
}

/** What an SDK error is, as far as the transport goes; undefined for anything else, such as a server's answer. */
export type TransportFailure = 'aborted' | 'connection' | 'timeout'

/**
 * Turns whatever the SDK or fetch throws into a SynapseError. `translate` holds the order of the
 * checks, which is where the providers would otherwise drift apart; a subclass answers the two
 * questions only its SDK can, and builds on the protected helpers for a server's answer so that the
 * wording stays shared.
 */
export abstract class ProviderErrorTranslator {
  /** Set when one of guardStream's timers, not the caller, aborted the request. */
  timedOut?: 'first-event' | 'idle'

  constructor(readonly context: ProviderErrorContext) {}

  interrupted(): SynapseError {
    return interruptedError(this.context.provider)
  }

  /** A stream that ended without a word of reply and without saying why it stopped: not a chat completion stream. */
  emptyStream(): SynapseError {
    const {baseUrlSetting, provider, url} = this.context
    return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} ended its stream without any reply or finish reason — check ${baseUrlSetting}.`, {
      suggestions: [`Check that ${url} is the API's base URL, not a web page or another service.`],
    })
  }

  /** The response is not a server-sent event stream; `contentType` is the header as the server sent it. */
  notAStream(contentType: string): SynapseError {
    const {baseUrlSetting, provider, url} = this.context
    const media = contentType.split(';')[0].trim().toLowerCase()
    const what = media === 'text/html' || media === 'application/xhtml+xml' ? 'an HTML page' : media === 'application/json' ? 'a JSON document' : `"${this.clean(media)}"`
    return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} answered with ${what}, not a chat completion stream — check ${baseUrlSetting}.`, {
      suggestions: [`Check that ${url} is the API's base URL, not a web page or another service.`],
    })
  }

  /** What a request that ran into one of guardStream's limits throws. */
  timeout(limit: 'first-event' | 'idle'): SynapseError {
    const {limits, provider, url} = this.context
    if (limit === 'idle') {
      return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} sent nothing for ${formatDuration(limits.idleTimeoutMs)} in the middle of its reply.`, {
        suggestions: [`Try again; raise providers.${provider}.idle_timeout_ms (milliseconds) if the model pauses this long.`],
      })
    }

    return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} did not start its reply within ${formatDuration(limits.timeoutMs)}.`, {
      suggestions: [`Try again; raise providers.${provider}.timeout_ms (milliseconds) for a busy server or a model that is still loading.`],
    })
  }

  /** `phase` is 'stream' once the response has begun: a connection lost then is a broken reply, not a server out of reach. */
  translate(error: unknown, phase: 'request' | 'stream'): SynapseError {
    const {baseUrlSetting, provider, signal, url} = this.context
    if (error instanceof SynapseError) return error
    const failure = this.transportFailure(error)
    if (signal?.aborted) return this.interrupted()
    // Our own timers abort the request the way the caller would: ask them before calling it an interruption.
    if (this.timedOut) return this.timeout(this.timedOut)
    if (failure === 'aborted') return this.interrupted()
    // The SDK's own timer, a backstop behind guardStream's.
    if (failure === 'timeout') return this.timeout('first-event')

    if (failure === 'connection') {
      if (phase === 'stream') return this.broken(error)
      const code = systemErrorCode(error)
      return new SynapseError('PROVIDER_ERROR', `Could not connect to the ${provider} provider at ${url}${code ? ` (${code})` : ''}.`, {
        cause: error,
        suggestions: [`Check that the server is running and reachable at ${url}.`, `Check ${baseUrlSetting} in the config.`],
      })
    }

    const answer = this.fromServer(error)
    if (answer !== undefined) return answer

    // The SDKs' reaction to an event whose data is not JSON (their own log lines are switched off).
    if (error instanceof SyntaxError) {
      return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} sent a stream that is not valid server-sent event JSON — check ${baseUrlSetting}.`, {
        cause: error,
        suggestions: [`Check that ${url} is the API's base URL and speaks the ${provider} protocol.`],
      })
    }

    // Once the body is flowing, fetch reports a lost connection as a bare TypeError('terminated').
    if (phase === 'stream') return this.broken(error)

    const message = error instanceof Error ? error.message : String(error)
    return new SynapseError('PROVIDER_ERROR', `The ${provider} request failed: ${this.clean(message)}`, {cause: error})
  }

  /** One line of the server's own words, shortened, with the key masked should the server echo it. */
  protected clean(text: string): string {
    let line = text.replaceAll(/\s+/g, ' ').trim()
    const key = this.context.sentKey
    if (key.length > 0) line = line.replaceAll(key, '[redacted]')
    return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line
  }

  protected failedWithStatus(status: number, detail: string | undefined, cause: unknown): SynapseError {
    return new SynapseError('PROVIDER_ERROR', withDetail(`The ${this.context.provider} provider failed with HTTP ${status}${this.retries()}`, detail), {
      cause,
      suggestions: ['Try again later; the fault is on the server side.'],
    })
  }

  /**
   * The SynapseError for an error that carries the server's answer (an HTTP status, or an error
   * event inside a stream); undefined when `error` carries none.
   */
  protected abstract fromServer(error: unknown): SynapseError | undefined

  protected rateLimited(detail: string | undefined, cause: unknown, suggestion: string): SynapseError {
    return new SynapseError('PROVIDER_ERROR', withDetail(`The ${this.context.provider} provider rate-limited the request (429)${this.retries()}`, detail), {
      cause,
      suggestions: [suggestion],
    })
  }

  protected refused(status: number, detail: string | undefined, cause: unknown, suggestions: string[] = []): SynapseError {
    return new SynapseError('PROVIDER_ERROR', withDetail(`The ${this.context.provider} provider refused the request (${status})`, detail), {cause, suggestions})
  }

  protected rejectedKey(status: number, detail: string | undefined, cause: unknown, suggestions: string[]): SynapseError {
    return new SynapseError('PROVIDER_AUTH', withDetail(`The ${this.context.provider} provider rejected the API key (${status})`, detail), {cause, suggestions})
  }

  /** ' after 2 retries' when the SDK retried, '' when it did not. */
  protected retries(): string {
    const count = this.context.maxRetries
    if (count === 0) return ''
    return count === 1 ? ' after 1 retry' : ` after ${count} retries`
  }

  /** Checked before `fromServer`: SDKs commonly make their transport errors subclasses of their API error. */
  protected abstract transportFailure(error: unknown): TransportFailure | undefined

  protected unknownModel(model: string, detail: string | undefined, cause: unknown, suggestions: string[]): SynapseError {
    return new SynapseError('PROVIDER_NOT_FOUND', withDetail(`The ${this.context.provider} provider does not know the model "${model}" (404)`, detail), {cause, suggestions})
  }

  private broken(error: unknown): SynapseError {
    const {provider, url} = this.context
    const code = systemErrorCode(error)
    return new SynapseError('PROVIDER_ERROR', `The connection to the ${provider} provider at ${url} broke in the middle of its reply${code ? ` (${code})` : ''}.`, {
      cause: error,
      suggestions: ['Try again.'],
    })
  }
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
export async function* guardStream<T>(errors: ProviderErrorTranslator, open: (signal: AbortSignal) => Promise<OpenedStream<T>>): AsyncGenerator<T, void, undefined> {
  const {limits, signal} = errors.context
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

/** What `Provider.stream` throws once the caller's signal is aborted. */
export function interruptedError(provider: string): SynapseError {
  return new SynapseError('INTERRUPTED', `The ${provider} request was interrupted.`, {exitCode: 130})
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
