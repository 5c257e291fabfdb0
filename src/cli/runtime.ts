import type {LoadedConfig} from '../config/index.js'
import type {PruneResult, SessionStore} from '../store/session-store.js'

/**
 * What the init hook prepared for the command about to run. oclif reloads its Config between the
 * hook and the command, so anything set on `this.config` is gone by then; this module is loaded once
 * per process (the hook and the commands share its chunk of the one build) and survives. A failure
 * is kept rather than thrown from the hook, so that the command reports it like any other error
 * (one line with a hint, or JSON under --json).
 */
export interface Runtime {
  /** What automatic retention deleted before the command, for the init hook's one-line notice. */
  cleanup?: PruneResult
  config?: LoadedConfig
  /** Why automatic retention failed; the command goes on, with a warning. */
  cleanupError?: unknown
  openError?: unknown
  /** Set when the store could not be opened for writing: opens it for reading only. */
  openReadOnly?: () => Promise<SessionStore>
  store?: SessionStore
}

export const runtime: Runtime = {}
