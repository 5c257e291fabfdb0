import type {LoadedConfig} from '../config/index.js'
import type {ProviderDescriptor, ProviderSettings} from './provider.js'

/**
 * A provider's settings from `[providers.<name>]` and the environment. The API key comes from the
 * provider's variable (OPENAI_API_KEY...) first, then `api_key` in the config; it goes to the
 * provider and nowhere else: never to a log, an error message or the database.
 */
export function providerSettings(descriptor: ProviderDescriptor, config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): ProviderSettings {
  const {api_key: apiKey, base_url: baseUrl, idle_timeout_ms: idleTimeoutMs, max_retries: maxRetries, timeout_ms: timeoutMs, ...extra} = config.settings.providers[descriptor.name] ?? {}
  const fromEnv = descriptor.apiKeyEnv ? env[descriptor.apiKeyEnv] : undefined
  return {
    apiKey: fromEnv || (typeof apiKey === 'string' ? apiKey : undefined),
    baseUrl: typeof baseUrl === 'string' ? baseUrl : undefined,
    extra,
    idleTimeoutMs: typeof idleTimeoutMs === 'number' ? idleTimeoutMs : undefined,
    maxRetries: typeof maxRetries === 'number' ? maxRetries : undefined,
    timeoutMs: typeof timeoutMs === 'number' ? timeoutMs : undefined,
  }
}
