import type {Hook} from '@oclif/core'

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
  if (runtime.cleanupError !== undefined) {
    process.stderr.write(`${paint(detectStyle(process.stderr), 'yellow', 'Warning:')} automatic cleanup of old sessions failed: ${describeWithRemedy(runtime.cleanupError)}\n`)
  }
  // Deleting without a word is what makes retention a surprise: say what went, and why.
  const notice = runtime.cleanup && runtime.config && cleanupNotice(runtime.cleanup, runtime.config.settings.session)
  if (notice) process.stderr.write(`${notice}\n`)
}

export default hook
