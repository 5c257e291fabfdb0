import type {Settings} from './types.js'
import type {ValueSpec, ValueType} from './values.js'

export type {ValueType} from './values.js'

export interface KeySpec extends ValueSpec {
  /** Dotted snake_case, as written in files; the Settings property is its camelCase. */
  key: string
  type: ValueType
  /**
   * A project file may set it without being trusted (`synapse config trust`). Only for keys that choose
   * among things the user already set up and cannot move a secret, a prompt or a session elsewhere, nor
   * delete anything: see "Running synapse in a repository you don't trust" in the README.
   */
  safeInProject?: true
  /** Absent means the setting stays undefined unless some source sets it. */
  default?: boolean | number | string
  /** The environment variable that sets it; empty values are ignored. */
  env?: string
  description: string
}

/**
 * Every setting synapse knows. Validation, environment parsing, defaults and `entries()` all read this
 * list, so a new setting is one line here plus its property in `Settings`.
 * Keys under `providers.<name>` are free-form; one listed here only fixes its type and adds a variable.
 */
export const KNOWN_KEYS: readonly KeySpec[] = [
  {
    key: 'session.max_sessions',
    type: 'integer',
    default: 100,
    env: 'SYNAPSE_MAX_SESSIONS',
    description: 'Most sessions kept; older ones are pruned beyond it (0: no limit)',
  },
  {
    key: 'session.retention_days',
    type: 'number',
    default: 90,
    env: 'SYNAPSE_RETENTION_DAYS',
    description: 'Days a session is kept; fractions allowed (0: forever)',
  },
  {key: 'session.auto_cleanup', type: 'boolean', default: true, env: 'SYNAPSE_AUTO_CLEANUP', description: 'Prune sessions past the limits automatically'},
  {
    key: 'session.max_context_messages',
    type: 'integer',
    default: 0,
    env: 'SYNAPSE_MAX_CONTEXT_MESSAGES',
    safeInProject: true,
    description: 'Most earlier messages sent as context (0: no limit)',
  },
  {
    key: 'session.max_context_tokens',
    type: 'integer',
    default: 0,
    env: 'SYNAPSE_MAX_CONTEXT_TOKENS',
    safeInProject: true,
    description: "Most tokens of earlier messages sent as context (0: what the model's context window leaves after the prompt and a reserve for the reply)",
  },
  {
    key: 'session.context_strategy',
    type: 'string',
    choices: ['truncate', 'summarize'],
    default: 'truncate',
    env: 'SYNAPSE_CONTEXT_STRATEGY',
    description: 'What happens to the oldest turns when a conversation outgrows the budget: left out (truncate), or summarised by the model (summarize)',
  },
  {key: 'storage.url', type: 'string', env: 'DATABASE_URL', description: 'Where sessions are stored (unset: the SQLite file in the data directory)'},
  {
    key: 'storage.busy_timeout_ms',
    type: 'integer',
    default: 5000,
    env: 'SYNAPSE_BUSY_TIMEOUT_MS',
    description: "How long a write waits for another process's lock on the database",
  },
  {key: 'provider.default', type: 'string', default: 'openai', env: 'SYNAPSE_PROVIDER', safeInProject: true, description: 'Provider used when none is named'},
  {
    key: 'provider.model',
    type: 'string',
    env: 'SYNAPSE_MODEL',
    safeInProject: true,
    description: "Model used when none is named (unset: the provider's default)",
  },
  {
    key: 'providers.openai.base_url',
    type: 'url',
    env: 'OPENAI_BASE_URL',
    description: 'Endpoint of the OpenAI provider, e.g. a local OpenAI-compatible server',
  },
]

/** The section whose tables are named by the user, one per provider. */
export const PROVIDERS_SECTION = 'providers'

/** What a provider table may be called: a provider's registry name (see ProviderRegistry.register). */
export const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]*$/

/** What an option inside a provider table may be called; never `__proto__` and the like. */
export const PROVIDER_OPTION_NAME = /^[a-z][a-z0-9_]*$/i

export interface ProviderOptionSpec extends ValueSpec {
  description: string
  name: string
}

/**
 * The options every provider table may hold, whatever the provider; each provider declares its own
 * others (ProviderDescriptor.options). Ranges keep values the SDKs would misread out: a negative or
 * huge timeout makes Node's timers fire at once, a negative retry count means none or forever.
 */
export const COMMON_PROVIDER_OPTIONS: readonly ProviderOptionSpec[] = [
  {description: "The API key (the provider's environment variable wins over it)", name: 'api_key', type: 'string'},
  {description: 'The endpoint, e.g. a local compatible server or a proxy', name: 'base_url', type: 'url'},
  {description: 'The longest silence once the reply has started (default 60000)', max: 2_147_483_647, min: 1, name: 'idle_timeout_ms', type: 'integer'},
  {description: 'How often a failed request (429, 5xx, connection errors) is retried', max: 10, min: 0, name: 'max_retries', type: 'integer'},
  {
    description: 'How long a request may wait for the reply to start, retries included (default 120000)',
    max: 2_147_483_647,
    min: 1,
    name: 'timeout_ms',
    type: 'integer',
  },
]

/** The section whose tables are named after models: `[models."gpt-4o"]`, facts that override the shipped data. */
export const MODELS_SECTION = 'models'

/** Longest model name a models table may have, as for model ids a server lists. */
export const MAX_MODEL_NAME_LENGTH = 200

export interface ModelOptionSpec extends ValueSpec {
  description: string
  name: 'cached_input_price' | 'context_window' | 'input_price' | 'output_price'
  /** An untrusted project file may set it: see `isSafeInProject`. */
  safeInProject?: true
}

/**
 * What a `[models."<name>"]` table may hold, and nothing else. Prices are USD per million tokens.
 * Only the context window is safe in an untrusted project file: like session.max_context_tokens it
 * changes how much of the conversation is sent, nothing more. A price is not: a repository could make
 * synapse show a paid model as free, and the user decides what to spend by what synapse shows.
 */
export const MODEL_OPTIONS: readonly ModelOptionSpec[] = [
  {description: 'Tokens the model takes in one request, prompt and reply together', min: 1, name: 'context_window', safeInProject: true, type: 'integer'},
  {description: 'USD per million input tokens', name: 'input_price', type: 'number'},
  {description: 'USD per million output tokens', name: 'output_price', type: 'number'},
  {description: "USD per million cached input tokens (read from the provider's prompt cache)", name: 'cached_input_price', type: 'number'},
]

const MODEL_OPTION_BY_NAME = new Map(MODEL_OPTIONS.map(option => [option.name as string, option]))

export function modelOptionSpec(option: string): ModelOptionSpec | undefined {
  return MODEL_OPTION_BY_NAME.get(option)
}

/** A model's table as keys show it: the name quoted as TOML quotes it when it holds more than letters, digits, "-" and "_" (`models."gpt-4.1"`). */
export function modelTable(model: string): string {
  return `${MODELS_SECTION}.${/^[\w-]+$/.test(model) ? model : JSON.stringify(model)}`
}

export function modelKey(model: string, option: string): string {
  return `${modelTable(model)}.${option}`
}

/**
 * Whether an untrusted project file may set this value: a fixed key marked `safeInProject`, or a
 * model option so marked. `path` is the assignment's place in Settings.
 */
export function isSafeInProject(key: string, path: readonly string[]): boolean {
  if (path[0] === MODELS_SECTION) return modelOptionSpec(path[2] ?? '')?.safeInProject === true
  return findKey(key)?.safeInProject === true
}

const COMMON_BY_NAME = new Map(COMMON_PROVIDER_OPTIONS.map(option => [option.name, option]))

/** The spec of a key under `providers.<name>.`: a fixed one (with its variable), a common option, or any scalar. */
export function providerOptionSpec(key: string, option: string): ValueSpec {
  return findKey(key) ?? COMMON_BY_NAME.get(option) ?? {type: 'scalar'}
}

const BY_KEY = new Map(KNOWN_KEYS.map(spec => [spec.key, spec]))

export function findKey(key: string): KeySpec | undefined {
  return BY_KEY.get(key)
}

/** Sections with a fixed set of keys, in table order. */
export const FIXED_SECTIONS: readonly string[] = [...new Set(KNOWN_KEYS.map(spec => sectionOf(spec.key)).filter(s => s !== PROVIDERS_SECTION))]

export const ALL_SECTIONS: readonly string[] = [...FIXED_SECTIONS, PROVIDERS_SECTION, MODELS_SECTION]

export function keysOfSection(section: string): string[] {
  return KNOWN_KEYS.filter(spec => sectionOf(spec.key) === section).map(spec => spec.key.slice(section.length + 1))
}

export function sectionOf(key: string): string {
  return key.split('.')[0]
}

/** Where a fixed key lives in Settings: `session.max_sessions` → ['session', 'maxSessions']. */
export function settingsPath(key: string): string[] {
  const [section, ...rest] = key.split('.')
  if (section === PROVIDERS_SECTION) return [section, rest[0], rest.slice(1).join('.')]
  return [section, rest.join('.').replaceAll(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())]
}

/** Keys whose values must not appear in `config` output, which people paste into bug reports. */
export function isSecretKey(key: string): boolean {
  const leaf = key.slice(key.lastIndexOf('.') + 1).toLowerCase()
  return /(?:_key|_token|secret|password)$/.test(leaf) || leaf === 'token'
}

/**
 * Settings tables have no prototype, so no key a file names (`__proto__`, `constructor`) can reach
 * Object.prototype or read an inherited property.
 */
export function setAtPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target
  for (const part of path.slice(0, -1)) {
    if (!Object.hasOwn(node, part)) node[part] = Object.create(null)
    node = node[part] as Record<string, unknown>
  }

  node[path.at(-1)!] = value
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }

  return value
}

/** A new, unfrozen copy of the defaults, every table without a prototype. */
export function buildDefaults(): Settings {
  const settings: Record<string, unknown> = Object.create(null)
  for (const section of ALL_SECTIONS) settings[section] = Object.create(null)
  for (const spec of KNOWN_KEYS) {
    if (spec.default !== undefined) setAtPath(settings, settingsPath(spec.key), spec.default)
  }

  return settings as unknown as Settings
}

/** Frozen: loadConfig copies it, and nothing else may change what "default" means at run time. */
export const DEFAULT_SETTINGS: Settings = deepFreeze(buildDefaults())
