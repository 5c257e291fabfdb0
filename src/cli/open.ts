import {join} from 'node:path'

import {type LoadedConfig, loadConfig, userConfigDir} from '../config/index.js'
import {SynapseError} from '../core/errors.js'
import {applyRetention} from '../core/retention.js'
import {openStore, type StorageBackends} from '../store/backends.js'
import {detectStyle, paint} from './output.js'
import type {Runtime} from './runtime.js'

export interface PrepareOptions {
  /** Every backend the plugins offer, the built-in SQLite one included. */
  backends: StorageBackends
  /** Run retention when the config says so (auto_cleanup). */
  cleanup: boolean
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Apply pending migrations on open; the `db` commands manage them themselves. */
  migrate: boolean
  /** Where the config's warnings go; stderr by default. */
  warn?: (line: string) => void
}

/** One line on stderr per thing the config ignored (an untrusted project file's keys): stdout stays clean for --json. */
export function reportConfigWarnings(config: LoadedConfig, warn: (line: string) => void = writeWarning): void {
  for (const warning of config.warnings) warn(warning)
}

function writeWarning(line: string): void {
  process.stderr.write(`${paint(detectStyle(process.stderr), 'yellow', 'Warning:')} ${line}\n`)
}

/** The database a command uses: `[storage] url` / DATABASE_URL, else the file beside the user config. */
export function storageUrl(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.settings.storage.url ?? join(userConfigDir(env), 'sessions.db')
}

/**
 * Loads the configuration, opens the store and applies retention: what a store command needs before
 * it runs. Fills `runtime` as far as it gets; the first error is kept, not thrown. A store that
 * cannot be opened for writing leaves `openReadOnly` behind, for a command that can make do with
 * reading (a continued chat still sends its history).
 */
export async function prepareRuntime(runtime: Runtime, options: PrepareOptions): Promise<void> {
  // One process may run several commands (tests, plugins calling runCommand): nothing of the last
  // one's preparation may reach this one.
  for (const key of Object.keys(runtime) as Array<keyof Runtime>) delete runtime[key]
  let url: string
  try {
    const env = options.env ?? process.env
    runtime.config = await loadConfig({cwd: options.cwd, env})
    reportConfigWarnings(runtime.config, options.warn)
    url = storageUrl(runtime.config, env)
  } catch (error) {
    runtime.openError = error
    return
  }
  const openOptions = {busyTimeoutMs: runtime.config.settings.storage.busyTimeoutMs, cwd: options.cwd}
  try {
    runtime.store = await openStore(url, {...openOptions, migrate: options.migrate}, options.backends)
  } catch (error) {
    runtime.openError = error
    if (isStorageFailure(error)) runtime.openReadOnly = () => openStore(url, {...openOptions, migrate: false, readOnly: true}, options.backends)
    return
  }
  const session = runtime.config.settings.session
  if (!options.cleanup || !session.autoCleanup) return
  try {
    runtime.cleanup = await applyRetention(runtime.store, session)
  } catch (error) {
    // Housekeeping is not what the user asked for: a database that is locked, read-only or full
    // now must not cost them the command. The next command tries again.
    runtime.cleanupError = error
  }
}

/** A database that is there but cannot be written now: locked, read-only, full, unreachable. */
export function isStorageFailure(error: unknown): boolean {
  return error instanceof SynapseError && (error.code === 'STORAGE_BUSY' || error.code === 'STORAGE_UNAVAILABLE')
}
