import type {LoadedConfig, SettingSource} from '../config/index.js'
import {displayPath} from '../config/files.js'
import type {StoredKeys} from '../config/keys-file.js'
import {COMMON_PROVIDER_OPTIONS, isSecretKey, PROVIDERS_SECTION} from '../config/keys.js'
import {checkSpec, closest, describeValue, expectedOf} from '../config/values.js'
import {ConfigError} from '../core/errors.js'
import {lazyStoredKeys, resolveApiKey} from './api-keys.js'
import type {ProviderDescriptor, ProviderSettings} from './provider.js'

/**
 * A provider's settings from `[providers.<name>]`, the keys file and the environment. The API key
 * comes from the provider's variable (OPENAI_API_KEY...) first, then the keys file, then `api_key` in
 * the config (see api-keys.ts); it goes to the provider and nowhere else: never to a log, an error
 * message or the database.
 *
 * The common options were checked when the config was read; the provider's own are checked here
 * against what its descriptor declares, so a typo is an error rather than a setting that does nothing.
 */
export function providerSettings(
  descriptor: ProviderDescriptor,
  config: LoadedConfig,
  env: NodeJS.ProcessEnv = process.env,
  stored: {file: string; keys: () => StoredKeys} = lazyStoredKeys(config, env),
): ProviderSettings {
  checkProviderOptions(descriptor, config, env)
  const {
    api_key: _apiKey,
    base_url: baseUrl,
    idle_timeout_ms: idleTimeoutMs,
    max_retries: maxRetries,
    timeout_ms: timeoutMs,
    ...rest
  } = config.settings.providers[descriptor.name] ?? {}
  const extra: ProviderSettings['extra'] = Object.assign(Object.create(null), rest)
  const {key: apiKey, source: apiKeySource} = resolveApiKey(descriptor, config, stored, env)
  return {
    apiKey,
    apiKeySource,
    baseUrl: typeof baseUrl === 'string' ? baseUrl : undefined,
    extra,
    idleTimeoutMs: typeof idleTimeoutMs === 'number' ? idleTimeoutMs : undefined,
    maxRetries: typeof maxRetries === 'number' ? maxRetries : undefined,
    timeoutMs: typeof timeoutMs === 'number' ? timeoutMs : undefined,
  }
}

/** Throws ConfigError, naming where the value came from, for an option the provider does not declare or a value it does not accept. */
export function checkProviderOptions(descriptor: ProviderDescriptor, config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): void {
  const declared = descriptor.options
  if (!declared) return
  const table = config.settings.providers[descriptor.name] ?? {}
  const common = new Set(COMMON_PROVIDER_OPTIONS.map(option => option.name))
  const prefix = `${PROVIDERS_SECTION}.${descriptor.name}`
  const sources = new Map(config.entries().map(entry => [entry.key, entry.source]))
  for (const [option, value] of Object.entries(table)) {
    if (common.has(option)) continue
    const key = `${prefix}.${option}`
    const where = describeSource(sources.get(key), env)
    if (!Object.hasOwn(declared, option)) {
      const names = [...common, ...Object.keys(declared)]
      const guess = closest(option, names)
      throw new ConfigError(`${where}: unknown key ${key}.`, {
        suggestions: [guess ? `Did you mean ${prefix}.${guess}?` : `The options of ${prefix} are: ${names.join(', ')}.`],
      })
    }

    const spec = declared[option]
    if (checkSpec(spec, value) === undefined) {
      const shown = isSecretKey(key) ? 'a value of another type' : describeValue(value)
      throw new ConfigError(`${where}: ${key} must be ${expectedOf(spec)}, not ${shown}.`, {
        suggestions: [`Use ${expectedOf(spec)}, or remove it: ${spec.description}.`],
      })
    }
  }
}

function describeSource(source: SettingSource | undefined, env: NodeJS.ProcessEnv): string {
  if (source?.file) return displayPath(source.file, env)
  if (source?.kind === 'env') return `Environment variable ${source.variable}`
  return 'Command line'
}
