import {sqliteBackend} from '../store/backends.js'

/** synapse's own answer to `synapse:storage`: the built-in SQLite backend, the way plugins add theirs. */
export default async function storage() {
  return [sqliteBackend]
}
