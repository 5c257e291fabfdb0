import type {Hook, Interfaces} from '@oclif/core'

import type {StorageBackends} from '../store/backends.js'

/**
 * Opens the session store before a command that uses one, and applies retention. Which commands do
 * is read from the manifest (`usesStore`, `migratesStore`, `autoCleanup`), so `--help`, `--version`, `plugins` and
 * `autocomplete` never import TypeORM or touch the database.
 */
const hook: Hook.Init = async function (options) {
  if (!options.id) return
  if (options.argv.includes('--help') || options.argv.includes('--version')) return
  const command = options.config.findCommand(options.id) as undefined | {autoCleanup?: boolean; migratesStore?: boolean; usesStore?: boolean}
  if (!command?.usesStore) return
  const [{runtime}, {prepareRuntime}, {formatWarning, loadStorageBackends}, {describeWithRemedy}, {detectStyle, paint}, {cleanupNotice}] = await Promise.all([
    import('../cli/runtime.js'),
    import('../cli/open.js'),
    import('../plugins/extensions.js'),
    import('../core/errors.js'),
    import('../cli/output.js'),
    import('../core/retention.js'),
  ])
  const {backends, warnings} = await loadStorageBackends(this.config)
  for (const warning of warnings) process.stderr.write(`${formatWarning(warning)}\n`)
  await prepareRuntime(runtime, {backends, cleanup: command.autoCleanup ?? true, migrate: command.migratesStore ?? true})
  await keepCompletionCache(this.config, backends)
  if (runtime.cleanupError !== undefined) {
    process.stderr.write(
      `${paint(detectStyle(process.stderr), 'yellow', 'Warning:')} automatic cleanup of old sessions failed: ${describeWithRemedy(runtime.cleanupError)}\n`,
    )
  }
  // Deleting without a word is what makes retention a surprise: say what went, and why.
  const notice = runtime.cleanup && runtime.config && cleanupNotice(runtime.cleanup, runtime.config.settings.session)
  if (notice) process.stderr.write(`${notice}\n`)
}

/**
 * Keeps the shell completion cache (src/completion/cache.ts) current: the command's store, wrapped so
 * that closing it after a write rewrites the cache. Only for a SQLite file, whose mtime tells the
 * scripts when the cache is out of date.
 */
async function keepCompletionCache(config: Interfaces.Config, backends: StorageBackends): Promise<void> {
  const [{runtime}, {storageUrl}, {sqlitePathOf}] = await Promise.all([import('../cli/runtime.js'), import('../cli/open.js'), import('../store/backends.js')])
  const {config: settings, store} = runtime
  if (!store || !settings) return
  try {
    const url = storageUrl(settings)
    if (backends.for(url).name !== 'sqlite') return
    const database = sqlitePathOf(url)
    if (database === ':memory:') return
    const {completionCacheOptions, keepCompletionCache: keep} = await import('../completion/cache.js')
    const pruned = (runtime.cleanup?.deleted.length ?? 0) > 0 && !runtime.cleanup?.dryRun
    runtime.store = keep(store, completionCacheOptions(config, settings, database, {changed: pruned}))
  } catch {
    // Completion falls back to the hidden command; the command itself is not affected.
  }
}

export default hook
