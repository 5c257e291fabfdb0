import type {Interfaces} from '@oclif/core'

import {terminalSafe} from '../core/terminal-text.js'
import type {ProviderDescriptor} from '../providers/provider.js'
import {ProviderRegistry} from '../providers/registry.js'
import {type StorageBackend, StorageBackends} from '../store/backends.js'

type Config = Interfaces.Config

/**
 * The two extension points. A plugin declares a hook for either event in its package.json
 * (`"oclif": {"hooks": {"synapse:storage": "./dist/hooks/storage.js"}}`) whose default export
 * resolves to an array of descriptors. synapse's own SQLite backend and OpenAI provider answer the
 * same events, so built-in and third-party extensions take one path.
 */
export const STORAGE_EVENT = 'synapse:storage'
export const PROVIDERS_EVENT = 'synapse:providers'

export interface ExtensionWarning {
  message: string
  plugin: string
}

export interface Contribution<T> {
  item: T
  plugin: string
}

/** What a plugin's hook must look like for each event; anything else is reported, not used. */
const SHAPES: Record<string, (item: unknown) => string | undefined> = {
  [PROVIDERS_EVENT](item) {
    const d = item as Partial<ProviderDescriptor>
    if (typeof d?.name !== 'string') return 'a provider without a name'
    if (typeof d.create !== 'function') return `provider "${d.name}" has no create()`
    if (typeof d.defaultModel !== 'string') return `provider "${d.name}" has no defaultModel`
  },
  [STORAGE_EVENT](item) {
    const b = item as Partial<StorageBackend>
    if (typeof b?.name !== 'string') return 'a storage backend without a name'
    if (typeof b.open !== 'function') return `storage backend "${b.name}" has no open()`
    if (!Array.isArray(b.schemes) || b.schemes.some(s => typeof s !== 'string')) return `storage backend "${b.name}" has no list of URL schemes`
  },
}

/**
 * Runs every plugin's hook for `event` and returns their descriptors in a fixed order: synapse's own
 * first, then plugins by name, because hooks run in parallel and answer in completion order. A hook
 * that throws, or answers with something that is not a list of descriptors, becomes a warning that
 * names the plugin; the others still count.
 */
export async function collect<T>(config: Config, event: string): Promise<{contributions: Contribution<T>[]; warnings: ExtensionWarning[]}> {
  const {failures, successes} = await config.runHook(event, {})
  const warnings: ExtensionWarning[] = failures.map(({error, plugin}) => ({
    message: `its ${event} hook failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    plugin: plugin.name,
  }))
  const ordered = [...successes].sort((a, b) => rank(a.plugin, config) - rank(b.plugin, config) || byCodePoint(a.plugin.name, b.plugin.name))
  const contributions: Contribution<T>[] = []
  for (const {plugin, result} of ordered) {
    if (!Array.isArray(result)) {
      warnings.push({message: `its ${event} hook returned ${describe(result)}, not a list`, plugin: plugin.name})
      continue
    }
    for (const item of result) {
      const problem = SHAPES[event]?.(item)
      if (problem) warnings.push({message: `ignored ${problem}`, plugin: plugin.name})
      else contributions.push({item: item as T, plugin: plugin.name})
    }
  }
  return {contributions, warnings}
}

export async function loadStorageBackends(config: Config): Promise<{backends: StorageBackends; warnings: ExtensionWarning[]}> {
  const {contributions, warnings} = await collect<StorageBackend>(config, STORAGE_EVENT)
  const backends = new StorageBackends([])
  for (const {item} of contributions) backends.register(item)
  return {backends, warnings}
}

export async function loadProviderRegistry(config: Config): Promise<{registry: ProviderRegistry; warnings: ExtensionWarning[]}> {
  const {contributions, warnings} = await collect<ProviderDescriptor>(config, PROVIDERS_EVENT)
  const registry = new ProviderRegistry()
  for (const {item, plugin} of contributions) registry.register(item, {source: plugin === config.name ? 'builtin' : plugin})
  return {registry, warnings}
}

export function formatWarning(warning: ExtensionWarning): string {
  return terminalSafe(`Warning: plugin ${warning.plugin}: ${warning.message}`, {multiline: true})
}

/** Package names are ASCII; String#localeCompare would build ICU's collator (~7 ms) on every run. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function rank(plugin: {name: string}, config: Config): number {
  return plugin.name === config.name ? 0 : 1
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
