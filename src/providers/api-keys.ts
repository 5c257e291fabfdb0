/**
 * Where a provider's API key comes from, highest first:
 *
 *   1. the provider's environment variable (`apiKeyEnv`, e.g. OPENAI_API_KEY), when not empty;
 *   2. the keys file (`synapse keys set`, `keys.json` in the user config dir);
 *   3. `providers.<name>.api_key` in a config file.
 *
 * The environment wins because it is set for this shell or this run, as every provider's own tools
 * read it. The keys file outranks the config file because `keys set` is the dedicated, later act: a
 * key stored with it must not be silently shadowed by an `api_key` line left in config.toml.
 *
 * A key goes to the provider and nowhere else: never to a log, an error message, the database or an
 * export. What may be shown is `maskKey`'s rendering.
 */
import {displayPath} from '../config/files.js'
import type {ConfigEntry, LoadedConfig, SettingSource} from '../config/index.js'
import {keysFilePath, readStoredKeys, removeStoredKey, type StoredKeys, storeKey} from '../config/keys-file.js'
import {closest} from '../config/values.js'
import {InvalidInputError} from '../core/errors.js'
import type {ProviderDescriptor} from './provider.js'
import type {ProviderRegistry} from './registry.js'

export interface ResolvedApiKey {
  key?: string
  /** Where the key came from; undefined when there is none. */
  source?: SettingSource
}

/** The stored keys, read only when a provider's variable is unset, and at most once. */
export function lazyStoredKeys(config: Pick<LoadedConfig, 'userDir'>, env: NodeJS.ProcessEnv = process.env): {file: string; keys: () => StoredKeys} {
  const file = keysFilePath(config.userDir)
  let keys: StoredKeys | undefined
  return {file, keys: () => (keys ??= readStoredKeys(file, env))}
}

export function resolveApiKey(
  descriptor: Pick<ProviderDescriptor, 'apiKeyEnv' | 'name'>,
  config: Pick<LoadedConfig, 'entries' | 'settings'>,
  stored: {file: string; keys: () => StoredKeys},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedApiKey {
  const variable = descriptor.apiKeyEnv
  const fromEnv = variable ? env[variable] : undefined
  if (variable && fromEnv) return {key: fromEnv, source: {kind: 'env', variable}}

  const fromFile = stored.keys()[descriptor.name]
  if (fromFile) return {key: fromFile, source: {file: stored.file, kind: 'keys'}}

  const fromConfig = config.settings.providers[descriptor.name]?.api_key
  if (typeof fromConfig === 'string' && fromConfig !== '') {
    const entry = config.entries().find(e => e.key === apiKeySetting(descriptor.name))
    return {key: fromConfig, source: entry?.source ?? {kind: 'user'}}
  }

  return {}
}

/** The ways to give a provider a key, in one phrase: `set OPENAI_API_KEY, run "synapse keys set openai" or set providers.openai.api_key in the config`. */
export function apiKeyWays(descriptor: Pick<ProviderDescriptor, 'apiKeyEnv' | 'name'>): string {
  const {apiKeyEnv: variable, name} = descriptor
  const ways = [...(variable ? [`set ${variable}`] : []), `run "synapse keys set ${name}"`, `set ${apiKeySetting(name)} in the config`]
  return `${ways.slice(0, -1).join(', ')} or ${ways.at(-1)}`
}

/** The config key a provider's key has in files. */
export function apiKeySetting(provider: string): string {
  return `providers.${provider}.api_key`
}

/**
 * What may be shown of a key: its last four characters when it is long enough that they give nothing
 * useful away (provider keys are 40 and more), so a user can tell two keys apart; else nothing.
 */
export function maskKey(key: string): string {
  return key.length >= 20 ? `****${key.slice(-4)}` : '********'
}

/** One provider in `synapse keys list`. */
export interface KeyStatus {
  /** The environment variable the provider reads, if it has one. */
  envVariable: null | string
  /** Registered by an installed provider; false for a key left in the keys file by a removed plugin. */
  installed: boolean
  /** What `maskKey` shows of the key in use; null when there is none. */
  masked: null | string
  provider: string
  /** Lower-ranked places that also hold a key for it, which the one in use shadows. */
  shadowed: SettingSource[]
  /** Where the key in use comes from; null when there is none. */
  source: null | SettingSource
}

export interface KeyChange {
  /** The keys file. */
  file: string
  provider: string
  /** Where the key in use comes from after the change; null when there is none. */
  source: null | SettingSource
}

type ProviderNames = Pick<ProviderRegistry, 'get' | 'list'>

/** Every installed provider, then any other provider the keys file holds a key for, by name. */
export function listKeys(
  registry: ProviderNames,
  config: Pick<LoadedConfig, 'entries' | 'settings' | 'userDir'>,
  env: NodeJS.ProcessEnv = process.env,
): KeyStatus[] {
  const stored = lazyStoredKeys(config, env)
  const installed = registry.list().map(r => r.descriptor)
  const orphans = Object.keys(stored.keys())
    .filter(name => !installed.some(d => d.name === name))
    .map(name => ({name}) as Pick<ProviderDescriptor, 'apiKeyEnv' | 'name'>)
  const rows = [...installed, ...orphans].map(descriptor => {
    const resolved = resolveApiKey(descriptor, config, stored, env)
    return {
      envVariable: descriptor.apiKeyEnv ?? null,
      installed: installed.includes(descriptor as ProviderDescriptor),
      masked: resolved.key === undefined ? null : maskKey(resolved.key),
      provider: descriptor.name,
      shadowed: shadowedSources(descriptor, config, stored, env, resolved.source),
      source: resolved.source ?? null,
    }
  })
  return rows.sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0))
}

/**
 * Stores `key` for an installed provider in the keys file.
 * Throws PROVIDER_NOT_FOUND (with the closest name) for a provider that is not installed, and a usage
 * error for a key that cannot be one: empty, several lines, spaces or control characters.
 */
export function setKey(
  registry: ProviderNames,
  config: Pick<LoadedConfig, 'entries' | 'settings' | 'userDir'>,
  provider: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): KeyChange {
  const descriptor = registry.get(provider)
  checkKey(key)
  const stored = lazyStoredKeys(config, env)
  storeKey(stored.file, descriptor.name, key, env)
  return {file: stored.file, provider: descriptor.name, source: resolveApiKey(descriptor, config, lazyStoredKeys(config, env), env).source ?? null}
}

/**
 * Removes the stored key of `provider`, installed or not (a removed plugin's key must still go).
 * Throws INVALID_INPUT when the keys file holds none, saying where the key in use comes from instead.
 */
export function removeKey(
  registry: ProviderNames,
  config: Pick<LoadedConfig, 'entries' | 'settings' | 'userDir'>,
  provider: string,
  env: NodeJS.ProcessEnv = process.env,
): KeyChange {
  const stored = lazyStoredKeys(config, env)
  if (!Object.hasOwn(stored.keys(), provider)) {
    const names = new Set([...registry.list().map(r => r.descriptor.name), ...Object.keys(stored.keys())])
    const guess = names.has(provider) ? undefined : closest(provider, names)
    const status = listKeys(registry, config, env).find(s => s.provider === provider)
    const suggestions = guess
      ? [`Did you mean "${guess}"?`]
      : status?.source
        ? [`Its key comes from ${describeSource(status.source, env)}: ${status.source.kind === 'env' ? 'unset it there' : 'remove it there'}.`]
        : ['Run "synapse keys list" to see the stored keys.']
    throw new InvalidInputError(`No key is stored for "${provider}" in ${displayPath(stored.file, env)}.`, {exitCode: 1, suggestions})
  }

  removeStoredKey(stored.file, provider, env)
  const descriptor = registry.list().find(r => r.descriptor.name === provider)?.descriptor ?? {name: provider}
  return {file: stored.file, provider, source: resolveApiKey(descriptor, config, lazyStoredKeys(config, env), env).source ?? null}
}

/** Where a key comes from, as messages and `keys list` say it. */
export function describeSource(source: SettingSource, env: NodeJS.ProcessEnv = process.env): string {
  if (source.kind === 'env') return `the environment (${source.variable})`
  if (source.kind === 'keys') return `the keys file (${displayPath(source.file!, env)})`
  return `the ${source.kind} config file${source.file ? ` (${displayPath(source.file, env)})` : ''}`
}

const MAX_KEY_LENGTH = 4096

function checkKey(key: string): void {
  if (key === '')
    throw new InvalidInputError('No key was given.', {
      suggestions: ['Type or paste the key at the prompt, or pipe it in: printf %s "$KEY" | synapse keys set <provider>'],
    })
  // Visible ASCII only: a key goes into an HTTP header, where a space, a line break or a control
  // character is at best an error from the server and at worst a header of its own.
  if (key.length > MAX_KEY_LENGTH || !/^[\u0021-\u007E]+$/.test(key)) {
    throw new InvalidInputError('That is not an API key: a key is one line of visible ASCII characters, without spaces.', {
      suggestions: ['Pipe in only the key itself, e.g. printf %s "$KEY" | synapse keys set <provider>'],
    })
  }
}

function shadowedSources(
  descriptor: Pick<ProviderDescriptor, 'apiKeyEnv' | 'name'>,
  config: Pick<LoadedConfig, 'entries' | 'settings'>,
  stored: {file: string; keys: () => StoredKeys},
  env: NodeJS.ProcessEnv,
  winner: SettingSource | undefined,
): SettingSource[] {
  if (!winner) return []
  const lower: SettingSource[] = []
  if (winner.kind === 'env' && stored.keys()[descriptor.name]) lower.push({file: stored.file, kind: 'keys'})
  if (winner.kind === 'env' || winner.kind === 'keys') {
    const fromConfig = resolveApiKey({name: descriptor.name}, config, {file: stored.file, keys: () => ({})}, env)
    if (fromConfig.source) lower.push(fromConfig.source)
  }

  return lower
}

/**
 * Refuses what looks like a key given where a provider name goes (`synapse keys set sk-...`), without
 * repeating it: an "unknown provider" error would print the key back onto the screen and into logs.
 */
export function checkProviderArgument(text: string): void {
  if (/^sk-/i.test(text) || (text.length >= 24 && /\d/.test(text) && /[a-z]/i.test(text))) {
    throw new InvalidInputError('That looks like an API key, not a provider name; it was not stored.', {
      suggestions: [
        'Give the provider only, e.g. "synapse keys set openai", and type or pipe in the key. Consider the key exposed if it is in your shell history.',
      ],
    })
  }
}

/**
 * The config entries with each provider's `api_key` as it is really resolved: from the environment or
 * the keys file as well as from config files, always masked. Entries that loadConfig reported for a
 * key that something higher now shadows are replaced, so `config show` names the source in use.
 */
export function withApiKeyEntries(entries: ConfigEntry[], keys: KeyStatus[]): ConfigEntry[] {
  const resolved = new Map(keys.filter(k => k.source !== null).map(k => [apiKeySetting(k.provider), k.source!]))
  const others = entries.filter(e => !resolved.has(e.key))
  const added = [...resolved].map(([key, source]) => ({key, source, value: '********'}))
  const providers = [...others.filter(e => e.key.startsWith('providers.')), ...added].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return [...others.filter(e => !e.key.startsWith('providers.')), ...providers]
}
