import type {LoadedConfig} from '../config/index.js'
import type {StoredKeys} from '../config/keys-file.js'
import {lazyStoredKeys, resolveApiKey} from './api-keys.js'
import type {ProviderDescriptor, ProviderSettings} from './provider.js'

/**
 * A provider's settings from `[providers.<name>]`, the keys file and the environment. The API key
 * comes from the provider's variable (OPENAI_API_KEY...) first, then the keys file, then `api_key` in
 * the config (see api-keys.ts); it goes to the provider and nowhere else: never to a log, an error
 * message or the database.
 */
export function providerSettings(
  descriptor: ProviderDescriptor,
  config: LoadedConfig,
  env: NodeJS.ProcessEnv = process.env,
  stored: {file: string; keys: () => StoredKeys} = lazyStoredKeys(config, env),
): ProviderSettings {
  const {api_key: _apiKey, base_url: baseUrl, max_retries: maxRetries, timeout_ms: timeoutMs, ...extra} = config.settings.providers[descriptor.name] ?? {}
  return {
    apiKey: resolveApiKey(descriptor, config, stored, env).key,
    baseUrl: typeof baseUrl === 'string' ? baseUrl : undefined,
    extra,
    maxRetries: typeof maxRetries === 'number' ? maxRetries : undefined,
    timeoutMs: typeof timeoutMs === 'number' ? timeoutMs : undefined,
  }
}
