import {SynapseError} from '../core/errors.js'
import type {StoreMaintenance} from '../store/session-store.js'
import {StoreCommand} from './base-command.js'

/** The `db` commands: they open the store without migrating or pruning it, to manage it. */
export abstract class DbCommand extends StoreCommand {
  static autoCleanup = false
  static migratesStore = false

  protected get maintenance(): StoreMaintenance {
    const {maintenance} = this.store
    if (!maintenance) {
      throw new SynapseError('STORAGE_UNAVAILABLE', `The ${this.store.backend} backend has no schema to manage.`, {
        suggestions: ['The db commands work on SQL backends such as the built-in SQLite file.'],
      })
    }
    return maintenance
  }
}
