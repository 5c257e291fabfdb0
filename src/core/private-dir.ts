import {chmodSync, mkdirSync, statSync} from 'node:fs'

/**
 * Creates `path` (and any missing parents) readable by its owner alone, whatever the umask, and
 * takes group and other access away from it if it already exists: for synapse's own directories
 * only (the plugin data directory, the completion cache), never a directory the user chose.
 */
export function makePrivateDir(path: string): void {
  mkdirSync(path, {mode: 0o700, recursive: true})
  const {mode} = statSync(path)
  if ((mode & 0o077) !== 0) chmodSync(path, mode & 0o700)
}
