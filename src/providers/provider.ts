/**
 * The Provider port: every language model synapse talks to goes through this interface. The built-in
 * `openai` provider (which also covers every OpenAI-compatible server) and plugin providers implement
 * it the same way, and each runs the conformance suite in `src/testing/provider-suite.ts`.
 *
 * A provider only streams one reply. Persisting messages, retrying whole turns, rendering and
 * choosing which provider to use stay in the core, so an adapter stays small.
 */

import type {SettingSource} from '../config/types.js'

export type ChatRole = 'assistant' | 'system' | 'tool' | 'user'

export interface ChatMessage {
  content: string
  role: ChatRole
}

export interface StreamOptions {
  /** Output-token cap, forwarded to the server in whatever field it understands. */
  maxTokens?: number
  /** The model id exactly as the server knows it; providers do not rewrite it. */
  model: string
  /** Aborting it cancels the HTTP request; see `Provider.stream` for what the caller then sees. */
  signal?: AbortSignal
  /** Forwarded as is; omitted from the request when undefined, so the server's default applies. */
  temperature?: number
}

/** Token counts as the server reported them; null when the server did not report them. */
export interface Usage {
  /**
   * Of `inputTokens`, those read from the provider's prompt cache (OpenAI
   * `prompt_tokens_details.cached_tokens`, Anthropic `cache_read_input_tokens`). Absent or null: not reported.
   */
  cachedInputTokens?: null | number
  /** What the server says the request cost, in US dollars (OpenRouter's `usage.cost`). Absent or null: not reported. */
  costUsd?: null | number
  /** Every input token of the request, cached ones included (Anthropic reports cache reads apart: they are added in). */
  inputTokens: null | number
  outputTokens: null | number
}

export type StreamEvent =
  | {text: string; type: 'delta'}
  | {
      /**
       * Why generation stopped, in the server's own words (openai: 'stop', 'length', 'content_filter'…),
       * or null when the server sent no reason.
       */
      finishReason: null | string
      /** The model the server says answered, which may differ from the requested alias; else the requested one. */
      model: string
      /** Provider-specific details worth keeping with the message (ids, detailed usage); JSON-serialisable. */
      raw?: Record<string, unknown>
      type: 'done'
      usage: Usage
    }

export interface Provider {
  /** The model used when neither the command line nor the config names one. */
  readonly defaultModel: string
  /** The registry name, e.g. 'openai'; used in messages and stored with every reply. */
  readonly name: string

  /**
   * Sends the conversation (in order; a system prompt, if any, is the first message) and streams the reply.
   *
   * Yields `delta` events with non-empty text in the order the server sent it, then exactly one `done`
   * event, then ends. The deltas concatenated are the whole reply.
   *
   * Failures are thrown from the iterator as SynapseErrors, never as SDK or fetch errors:
   * - `signal` aborted (before or during the request): code 'INTERRUPTED', exitCode 130. Every delta
   *   yielded before the abort is text the server really sent, and nothing is yielded after it; no
   *   `done` event comes. The caller's concatenated deltas are therefore the partial reply, which the
   *   core may keep as an interrupted message.
   * - the server rejects the credentials: 'PROVIDER_AUTH'; the model does not exist: 'PROVIDER_NOT_FOUND';
   *   rate limits, server errors, refused connections, timeouts, a connection dropped mid-reply:
   *   'PROVIDER_ERROR'. Messages are one line, name the provider, and never contain the API key.
   * A failure after some deltas were yielded is thrown after them, like an abort.
   *
   * `timeoutMs` bounds the wait for the reply to start (retries included; a timeout itself is not
   * retried) and `idleTimeoutMs` every silence between two pieces of it, so a stalled server cannot
   * hang the CLI. A response that is not a stream (an HTML page) or a stream that ends with no reply
   * and no finish reason is a 'PROVIDER_ERROR', never an empty reply.
   *
   * Breaking out of the loop early cancels the request.
   */
  stream(messages: ChatMessage[], options: StreamOptions): AsyncIterable<StreamEvent>
}

/** What the CLI resolves from flags, environment and config for one provider before creating it. */
export interface ProviderSettings {
  /** Absent when the user configured none; a provider decides whether that is an error. */
  apiKey?: string
  /** Where `apiKey` came from (its variable, the keys file, a config file), so that a rejected key's message says where to fix it. */
  apiKeySource?: SettingSource
  /** Overrides the provider's public endpoint, e.g. a local OpenAI-compatible server. */
  baseUrl?: string
  /** Provider-specific options from the config (`providers.<name>.<key>`), passed through untouched. */
  extra: Record<string, boolean | number | string>
  /** How often a failed request (429, 5xx, connection errors) is retried; absent: the provider's default. */
  maxRetries?: number
  /** Longest silence in milliseconds between two pieces of a reply that has started (`idle_timeout_ms`); absent: DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number
  /** Milliseconds from sending a request until its reply starts, retries included (`timeout_ms`); absent: DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number
}

/**
 * An option a provider reads from its config table (`providers.<name>.<option>`, arriving in
 * `ProviderSettings.extra`). The CLI checks every value against it before `create` runs, and rejects a
 * key the provider does not declare, suggesting the closest one.
 */
export interface ProviderOption {
  /** For strings: the only values accepted. */
  choices?: readonly string[]
  /** One line, shown in messages and help. */
  description: string
  /** Inclusive bounds for numbers; numbers are ≥ 0 unless `min` says more. */
  max?: number
  min?: number
  type: 'boolean' | 'integer' | 'number' | 'string'
}

/**
 * How a provider makes itself known: the built-in ones and those from plugins register the same
 * descriptor type in the ProviderRegistry. Everything but `create` is static data that help and
 * completion can show without creating a provider or loading its SDK.
 */
export interface ProviderDescriptor {
  /** The environment variable that holds the key, named in messages about a missing or rejected key. */
  apiKeyEnv?: string
  /** Where a user creates a key, named when none is set. */
  apiKeyUrl?: string
  /**
   * Checks the settings and returns a provider without any network I/O. Throws a SynapseError for
   * settings that can never work, so the CLI fails before it starts a turn.
   *
   * Core calls it through `createProvider`, which has already refused a missing key ('MISSING_API_KEY',
   * see `needsApiKey`): whenever one is needed, `settings.apiKey` is a non-empty string here.
   */
  create(settings: ProviderSettings): Provider
  /** Where requests go when `base_url` is not set: what `config show` reports as the effective value. */
  defaultBaseUrl?: string
  defaultModel: string
  /** One line, shown in provider listings. */
  description: string
  /**
   * The models the configured server offers, for `synapse models`. Optional: without it, `models` is
   * all synapse says. Resolves to undefined when this configuration has no server worth asking (the
   * built-in openai provider asks only OpenAI-compatible servers, not api.openai.com, whose list is
   * mostly embedding, image and audio models). `signal` ends the request (the CLI allows 2 s). Throws
   * on a failure, with a one-line message that never contains the key.
   */
  listModels?(settings: ProviderSettings, options: {signal: AbortSignal}): Promise<string[] | undefined>
  /** Well-known model names, for `synapse models`, completion and help; the server may accept others. */
  models?: string[]
  /** Lower-case letters, digits, '-' and '_'; it is also the config key `providers.<name>`. */
  name: string
  /**
   * Whether these settings need an API key. Absent: a key is needed exactly when `apiKeyEnv` is set.
   * For a provider whose endpoint decides (openai: api.openai.com insists, a local server does not).
   */
  needsApiKey?(settings: ProviderSettings): boolean
  /**
   * The options of its config table beyond the common ones every provider gets (api_key, base_url,
   * max_retries, timeout_ms), by snake_case name. When declared, the table is checked strictly: a value
   * of the wrong type or range, or a key that is neither common nor declared, is an error naming the
   * file and the key. Absent: the other keys reach `extra` unchecked (plugins written before options).
   */
  options?: Record<string, ProviderOption>
}
