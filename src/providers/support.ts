/**
 * What every streaming provider needs around its SDK, whatever the SDK: one request that both the
 * caller's signal and a silence timer can stop, and the translation of what the SDK or fetch throws
 * into the one-line SynapseErrors of the Provider contract. A provider supplies only what its SDK
 * decides: which of its error classes is which, and what the server's answer said.
 *
 * The built-in `openai` provider and the `anthropic` plugin both build on it, so that the same failure
 * reads the same whichever provider met it.
 */
import {isSynapseError, SynapseError} from '../core/errors.js'
import {redactUrl} from '../core/redact.js'

/** The most of a server's own error text a message repeats, so one line stays readable. */
const MAX_DETAIL = 200

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
  /** The SDK's request timeout, which also bounds the server's silence between two stream events. */
  timeoutMs: number
  /** The setting that raises the timeout, when the provider has one to name. */
  timeoutSetting?: string
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
  /** Set when the silence timer, not the caller, aborted the request. */
  silent = false

  constructor(readonly context: ProviderErrorContext) {}

  interrupted(): SynapseError {
    return interruptedError(this.context.provider)
  }

  silence(): SynapseError {
    const {provider, timeoutMs, url} = this.context
    return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} sent nothing for ${formatDuration(timeoutMs)} in the middle of its reply.`, {
      suggestions: [this.longerTimeout()],
    })
  }

  /** `phase` is 'stream' once the response has begun: a connection lost then is a broken reply, not a server out of reach. */
  translate(error: unknown, phase: 'request' | 'stream'): SynapseError {
    const {baseUrlSetting, provider, signal, timeoutMs, url} = this.context
    if (isSynapseError(error)) return error
    const failure = this.transportFailure(error)
    if (signal?.aborted || failure === 'aborted') return this.interrupted()
    if (this.silent) return this.silence()

    if (failure === 'timeout') {
      return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} did not answer within ${formatDuration(timeoutMs)}${this.attempts()}.`, {
        cause: error,
        suggestions: [this.longerTimeout()],
      })
    }

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

    if (error instanceof SyntaxError) {
      return new SynapseError('PROVIDER_ERROR', `The ${provider} provider at ${url} sent a stream synapse could not read.`, {cause: error})
    }

    // Once the body is flowing, fetch reports a lost connection as a bare TypeError('terminated').
    if (phase === 'stream') return this.broken(error)

    const message = error instanceof Error ? error.message : String(error)
    return new SynapseError('PROVIDER_ERROR', `The ${provider} request failed: ${this.clean(message)}`, {cause: error})
  }

  /** ' (2 attempts)' when the SDK retried, '' when it did not. */
  protected attempts(): string {
    const count = this.context.maxRetries
    return count === 0 ? '' : ` (${count + 1} attempts)`
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

  private longerTimeout(): string {
    const setting = this.context.timeoutSetting
    return `Try again; a busy server or a slow model may need a longer timeout${setting ? ` (${setting})` : ''}.`
  }
}

/**
 * Opens a provider's stream and yields its events. The caller's signal and a timer on the server's
 * silence abort the same request, and every failure comes out translated by `errors`. The timer
 * measures only the wait for the next event, not the time the caller spends on one. Ending the
 * iteration early aborts the request.
 */
export async function* guardStream<T>(errors: ProviderErrorTranslator, open: (signal: AbortSignal) => Promise<AsyncIterable<T>>): AsyncGenerator<T, void, undefined> {
  const {signal, timeoutMs} = errors.context
  const request = new AbortController()
  const abortRequest = () => request.abort()
  signal?.addEventListener('abort', abortRequest, {once: true})
  let completed = false

  try {
    let events: AsyncIterable<T>
    try {
      events = await open(request.signal)
    } catch (error) {
      throw errors.translate(error, 'request')
    }

    const iterator = events[Symbol.asyncIterator]()
    while (true) {
      let result: IteratorResult<T>
      const silence = setTimeout(() => {
        errors.silent = true
        request.abort()
      }, timeoutMs)
      try {
        result = await iterator.next()
      } catch (error) {
        throw errors.translate(error, 'stream')
      } finally {
        clearTimeout(silence)
      }

      // SDKs end the iteration quietly when their request is aborted; tell why it ended.
      if (signal?.aborted) throw errors.interrupted()
      if (errors.silent) throw errors.silence()
      if (result.done) break
      yield result.value
    }

    completed = true
  } finally {
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
