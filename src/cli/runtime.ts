import type {LoadedConfig} from '../config/index.js'
import type {PruneResult, SessionStore} from '../store/session-store.js'

/**
 * What the init hook prepared for the command about to run. oclif reloads its Config between the
 * hook and the command, so anything set on `this.config` is gone by then; this module is loaded once
 * per process and survives. A failure is kept rather than thrown from the hook, so that the command
 * reports it like any other error (one line with a hint, or JSON under --json).
 */
export interface Runtime {
  config?: LoadedConfig
  /** What automatic retention removed before the command ran. */
  cleanup?: PruneResult
  /** Why automatic retention failed; the command goes on, with a warning. */
  cleanupError?: unknown
  openError?: unknown
  /** Set when the store could not be opened for writing: opens it for reading only. */
  openReadOnly?: () => Promise<SessionStore>
  store?: SessionStore
}

// Keyed on the global symbol registry rather than held in a module variable: under a TypeScript
// loader oclif may import the hook from src/ and the command from dist/, two copies of this module.
const KEY = Symbol.for('synapse.runtime')
const holder = globalThis as typeof globalThis & {[KEY]?: Runtime}
export const runtime: Runtime = (holder[KEY] ??= {})

export function resetRuntime(): void {
  delete runtime.config
  delete runtime.cleanup
  delete runtime.cleanupError
  delete runtime.openError
  delete runtime.openReadOnly
  delete runtime.store
}
