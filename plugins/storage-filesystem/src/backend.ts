import type {StorageBackend} from 'synapse-cli'

/**
 * The descriptor the `synapse:storage` hook hands to synapse. Cheap to import: the store and its
 * dependencies load only when a `file:` URL is actually opened.
 */
export const filesystemBackend: StorageBackend = {
  description: 'One JSON file per session in a directory',
  name: 'filesystem',
  async open(url, options) {
    const [{openFilesystemStore}, {directoryOf}] = await Promise.all([import('./filesystem-store.js'), import('./url.js')])
    // There is no schema, so `migrate` has nothing to do; the busy timeout bounds the wait for the lock.
    return openFilesystemStore({clock: options.clock, dir: directoryOf(url, options.cwd), lockTimeoutMs: options.busyTimeoutMs})
  },
  schemes: ['file'],
}
