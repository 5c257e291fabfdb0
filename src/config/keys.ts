import type {Settings} from './types.js'

export type ValueType = 'boolean' | 'integer' | 'number' | 'string'

export interface KeySpec {
  /** Dotted snake_case, as written in files; the Settings property is its camelCase. */
  key: string
  type: ValueType
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
  {key: 'session.max_sessions', type: 'integer', default: 100, env: 'SYNAPSE_MAX_SESSIONS', description: 'Most sessions kept; older ones are pruned beyond it (0: no limit)'},
  {key: 'session.retention_days', type: 'number', default: 90, env: 'SYNAPSE_RETENTION_DAYS', description: 'Days a session is kept; fractions allowed (0: forever)'},
  {key: 'session.auto_cleanup', type: 'boolean', default: true, env: 'SYNAPSE_AUTO_CLEANUP', description: 'Prune sessions past the limits automatically'},
  {key: 'session.max_context_messages', type: 'integer', default: 0, env: 'SYNAPSE_MAX_CONTEXT_MESSAGES', description: 'Most earlier messages sent as context (0: no limit)'},
  {key: 'session.max_context_tokens', type: 'integer', default: 0, env: 'SYNAPSE_MAX_CONTEXT_TOKENS', description: 'Most estimated tokens of earlier messages sent as context (0: no limit)'},
  {key: 'storage.url', type: 'string', env: 'DATABASE_URL', description: 'Where sessions are stored (unset: the SQLite file in the data directory)'},
  {key: 'storage.busy_timeout_ms', type: 'integer', default: 5000, env: 'SYNAPSE_BUSY_TIMEOUT_MS', description: "How long a write waits for another process's lock on the database"},
  {key: 'provider.default', type: 'string', default: 'openai', env: 'SYNAPSE_PROVIDER', description: 'Provider used when none is named'},
  {key: 'provider.model', type: 'string', env: 'SYNAPSE_MODEL', description: "Model used when none is named (unset: the provider's default)"},
  {key: 'providers.openai.base_url', type: 'string', env: 'OPENAI_BASE_URL', description: 'Endpoint of the OpenAI provider, e.g. a local OpenAI-compatible server'},
]

/** The section whose tables are named by the user, one per provider. */
export const PROVIDERS_SECTION = 'providers'

const BY_KEY = new Map(KNOWN_KEYS.map((spec) => [spec.key, spec]))

export function findKey(key: string): KeySpec | undefined {
  return BY_KEY.get(key)
}

/** Sections with a fixed set of keys, in table order. */
export const FIXED_SECTIONS: readonly string[] = [...new Set(KNOWN_KEYS.map((spec) => sectionOf(spec.key)).filter((s) => s !== PROVIDERS_SECTION))]

export const ALL_SECTIONS: readonly string[] = [...FIXED_SECTIONS, PROVIDERS_SECTION]

export function keysOfSection(section: string): string[] {
  return KNOWN_KEYS.filter((spec) => sectionOf(spec.key) === section).map((spec) => spec.key.slice(section.length + 1))
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

export function setAtPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target
  for (const part of path.slice(0, -1)) {
    node[part] ??= {}
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

function buildDefaults(): Settings {
  const settings: Record<string, unknown> = Object.fromEntries(ALL_SECTIONS.map((section) => [section, {}]))
  for (const spec of KNOWN_KEYS) {
    if (spec.default !== undefined) setAtPath(settings, settingsPath(spec.key), spec.default)
  }

  return settings as unknown as Settings
}

/** Frozen: loadConfig copies it, and nothing else may change what "default" means at run time. */
export const DEFAULT_SETTINGS: Settings = deepFreeze(buildDefaults())
