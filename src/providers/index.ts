import {builtinProviders, ProviderRegistry} from './registry.js'

/** Every provider this run can use: the built-in ones, registered the way plugins register theirs. */
export function loadProviders(): ProviderRegistry {
  const registry = new ProviderRegistry()
  for (const descriptor of builtinProviders()) registry.register(descriptor, {source: 'builtin'})
  return registry
}
